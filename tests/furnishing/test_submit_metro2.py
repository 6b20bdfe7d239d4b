"""Metro 2 files go through the same submission path as the native format."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from openbureau.files.tables import tradelines
from openbureau.furnishing.errors import FileRejected
from openbureau.furnishing.metro2 import write_file
from openbureau.furnishing.metro2.sample import HEADER, sample_base
from openbureau.furnishing.submit import submit_file
from openbureau.governance.members import Role


@pytest.mark.parametrize("packed", [False, True], ids=["character", "packed"])
def test_metro2_file_loads_through_the_submission_path(bureau, members, tmp_path, packed):
    furnisher, _ = members.add("usbank", Role.FURNISHER)
    path = tmp_path / "cycle.m2"
    write_file(path, HEADER, sample_base(40, seed=3), packed=packed, blocked=packed)
    report, replay = submit_file(bureau, furnisher, path, actor="test")
    assert report["format"] == "metro2" and not replay
    assert report["records"] == 40
    assert report["accepted"] + report["rejected"] == 40
    assert report["accepted"] > 0
    with bureau.sessions() as session:
        stored = session.execute(select(func.count()).select_from(tradelines)).scalar_one()
    assert stored == report["accepted"]
    again, replay = submit_file(bureau, furnisher, path, actor="test")
    assert replay and again == report


def test_metro2_file_with_a_broken_trailer_is_rejected_whole(bureau, members, tmp_path):
    furnisher, _ = members.add("usbank", Role.FURNISHER)
    path = tmp_path / "cycle.m2"
    write_file(path, HEADER, sample_base(10, seed=4))
    data = bytearray(path.read_bytes())
    trailer_at = data.rfind(b"TRAILER")
    data[trailer_at + 7 : trailer_at + 16] = b"000000999"  # total base records
    path.write_bytes(bytes(data))
    with pytest.raises(FileRejected):
        submit_file(bureau, furnisher, path, actor="test")
    with bureau.sessions() as session:
        assert session.execute(select(func.count()).select_from(tradelines)).scalar_one() == 0
