"""The platform's Metro 2 files say what its native records say, through the OB extension."""

from __future__ import annotations

import polars as pl
from polars.testing import assert_frame_equal

from openbureau.demo.metro2_files import write_metro2_submission
from openbureau.demo.taiwan import build_demo_submissions
from openbureau.furnishing.metro2 import read_file, to_native
from openbureau.furnishing.metro2.reader import read_chunks
from openbureau.furnishing.schema import FIELD_NAMES

# Everything but the two fields the platform writes in Latin letters (pinyin, one-line address).
IDENTITY_FREE = [name for name in FIELD_NAMES if name not in ("full_name", "address")]


def test_platform_file_is_valid_metro2_and_maps_back_to_its_records(tmp_path):
    data = build_demo_submissions(limit=300)
    sub = next(s for s in data.submissions if s.member_code == "zhifu" and s.period == "2005-09")
    path = write_metro2_submission(
        sub.records,
        data.persons,
        tmp_path / "zhifu.m2",
        reporter_name="Zhifu",
        identification_number="ZHIFU0001",
    )
    parsed = read_file(path)
    assert parsed.rejections.height == 0
    assert set(parsed.segments) == {"OB"}
    mapped = pl.concat([to_native(c).accounts for c in read_chunks(path)])
    assert_frame_equal(mapped.select(IDENTITY_FREE), sub.records.select(IDENTITY_FREE))
    # Names are the passport pinyin, addresses in Latin letters with the country.
    assert mapped["full_name"].str.contains(r"^[A-Z]+ [A-Z]+$").all()
    assert mapped["address"].str.contains(r"^[A-Z0-9 ,]+$").all()
    assert mapped["national_id"].str.len_chars().eq(18).all()


def test_standard_records_carry_no_extension(tmp_path):
    from openbureau.furnishing.metro2 import write_file
    from openbureau.furnishing.metro2.sample import HEADER, sample_base

    path = tmp_path / "us.m2"
    write_file(path, HEADER, sample_base(5, seed=1))
    parsed = read_file(path)
    assert parsed.segments == {} and set(parsed.base["rdw"]) == {426}
    accounts = pl.concat([to_native(c).accounts for c in read_chunks(path)])
    assert set(accounts["currency"]) == {"USD"}
    assert set(accounts["national_id_type"].drop_nulls()) == {"us_ssn"}
