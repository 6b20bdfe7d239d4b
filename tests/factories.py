"""Test data: valid native furnishing records with real-checksum national IDs."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl
from stdnum.cn import ric

from openbureau.furnishing.schema import FIELD_NAMES


def resident_id(birth: date, serial: int, region: str = "110101") -> str:
    """A valid 18-character Chinese resident ID for this birth date (odd serial = male)."""
    body = f"{region}{birth:%Y%m%d}{serial % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def record(**overrides) -> dict:
    birth = overrides.pop("birth", date(1985, 3, 14))
    serial = overrides.pop("serial", 123)
    base = {
        "full_name": "张伟",
        "national_id_type": "cn_ric",
        "national_id": resident_id(birth, serial),
        "date_of_birth": birth.isoformat(),
        "address": "浙江省杭州市西湖区文三路90号",
        "phone": "+8613800138000",
        "reporting_date": "2005-09-30",
        "account_ref": "ACC-1",
        "account_type": "revolving",
        "date_opened": "2001-05-01",
        "credit_limit": 50000,
        "original_amount": None,
        "current_balance": 12000,
        "amount_past_due": 0,
        "account_status": "current",
        "payment_history": "0" * 24,
        "date_first_delinquency": None,
        "date_closed": None,
        "currency": "CNY",
    }
    base.update(overrides)
    return base


def person(n: int) -> dict:
    """Identity fields of the n-th distinct test person."""
    birth = date(1960 + n % 40, 1 + n % 12, 1 + n % 28)
    return {
        "full_name": f"测试{n}",
        "birth": birth,
        "serial": 100 + n % 800,
    }


def jsonl_bytes(records: list[dict]) -> bytes:
    return b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in records)


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_bytes(jsonl_bytes(records))
    return path


def _columns(records: list[dict]) -> dict:
    """Every native field, then any other key the records use (delete_request, say)."""
    extra = {k for r in records for k in r if k not in FIELD_NAMES}
    return {n: pl.Utf8 for n in (*FIELD_NAMES, *sorted(extra))}


def write_csv(path: Path, records: list[dict]) -> Path:
    frame = pl.DataFrame(records, schema=_columns(records), strict=False)
    buffer = io.BytesIO()
    frame.write_csv(buffer)
    path.write_bytes(buffer.getvalue())
    return path


def write_parquet(path: Path, records: list[dict]) -> Path:
    frame = pl.DataFrame(
        [{k: (None if v is None else str(v)) for k, v in r.items()} for r in records],
        schema=_columns(records),
    )
    frame.write_parquet(path)
    return path


def run_together(work: Callable[[int], None], threads: int) -> list[BaseException]:
    """Runs work(0) .. work(threads - 1) in threads released at the same moment; returns
    what they raised (the main thread asserts on it: pytest sees no thread's exception)."""
    start = threading.Barrier(threads)
    failures: list[BaseException] = []

    def run(n: int) -> None:
        try:
            start.wait()
            work(n)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)

    running = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    return failures
