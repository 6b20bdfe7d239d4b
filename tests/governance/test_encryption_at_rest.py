"""Personal data is encrypted at rest: the raw database never holds a national ID or a name."""

from __future__ import annotations

import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from factories import record, resident_id, write_jsonl
from openbureau.furnishing.submit import submit_file
from openbureau.governance.crypto import NONCE_BYTES, BureauKeys
from openbureau.governance.members import Role

NAME = "欧阳娜娜"
LATIN = "Nana OUYANG"


def _load(bureau, members, tmp_path):
    from datetime import date

    furnisher, _ = members.add("zhifu", Role.FURNISHER)
    birth = date(1988, 6, 5)
    national_id = resident_id(birth, 424)
    records = [
        record(
            full_name=NAME,
            birth=birth,
            serial=424,
            account_ref="A1",
            address="杭州市上城区解放路18号",
            phone="+8613912345678",
        ),
        record(full_name=LATIN, birth=birth, serial=424, account_ref="A2"),
    ]
    report, _ = submit_file(
        bureau, furnisher, write_jsonl(tmp_path / "f.jsonl", records), actor="t"
    )
    assert report["accepted"] == 2
    return national_id


def _secrets(national_id: str) -> list[bytes]:
    return [
        national_id.encode(),
        NAME.encode(),
        LATIN.encode(),
        "解放路".encode(),
        b"13912345678",
        national_id[6:14].encode(),
    ]


def test_no_personal_data_in_the_raw_database(bureau, members, tmp_path, db_backend):
    national_id = _load(bureau, members, tmp_path)
    if db_backend == "sqlite":
        bureau.dispose()
        path = Path(make_url(bureau.settings.database_url).database)
        # The main file and the write-ahead log together hold every page ever written.
        raw = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    else:
        url = make_url(bureau.settings.database_url)
        raw = subprocess.run(
            ["pg_dump", "-h", url.host, "-p", str(url.port), "-U", url.username, url.database],
            check=True,
            capture_output=True,
        ).stdout
        assert b"COPY public.subject_identities" in raw
    assert len(raw) > 10_000
    for secret in _secrets(national_id):
        assert secret not in raw, secret


def test_batch_encryption_round_trips_with_a_fresh_nonce_per_value():
    keys = BureauKeys.generate()
    values = ["110101199003074514", None, "张伟", "", "110101199003074514"]
    blobs = keys.encrypt_many(values)
    assert blobs[1] is None
    assert [keys.decrypt(b) for b in blobs if b is not None] == [v for v in values if v is not None]
    nonces = [b[:NONCE_BYTES] for b in blobs if b is not None]
    assert len(set(nonces)) == len(nonces)
    assert blobs[0] != blobs[4]  # the same value never encrypts to the same bytes
