"""Synthetic, valid Metro 2 raw-field frames (for tests, benchmarks and demos)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
from stdnum.cn import ric

HEADER = {
    "cycle_identifier": "",
    "equifax_program_identifier": "EQ12345",
    "experian_program_identifier": "EX123",
    "transunion_program_identifier": "TU12345",
    "activity_date": dt.date(2026, 10, 31),
    "date_created": dt.date(2026, 11, 1),
    "program_date": dt.date(2020, 1, 15),
    "reporter_name": "OPENBUREAU TEST FURNISHER",
    "reporter_address": "1 MAIN ST SPRINGFIELD IL 62701",
    "reporter_telephone_number": 2175550100,
    "software_vendor_name": "OPENBUREAU",
    "software_version_number": "0.1",
}

_STATUS = np.array(["11", "11", "11", "11", "71", "78", "80", "13", "97", "93", "05"])
_SURNAMES = np.array(["SMITH", "JOHNSON", "WILLIAMS", "BROWN", "JONES", "GARCIA", "MILLER"])
_FIRST = np.array(["JAMES", "MARY", "ROBERT", "PATRICIA", "JOHN", "JENNIFER", "MICHAEL"])
_CITIES = np.array(["SPRINGFIELD", "RIVERSIDE", "FRANKLIN", "GREENVILLE", "BRISTOL"])
_STATES = np.array(["IL", "CA", "TX", "NY", "OH"])
_PORT = np.array(["R", "I", "M", "O", "C"])
_ATYPE = np.array(["18", "00", "26", "0G", "15"])


def sample_base(n: int, seed: int = 0, start_no: int = 2) -> pl.DataFrame:
    """`n` valid base records; record_no starts at `start_no` (the header is record 1)."""
    rng = np.random.default_rng(seed)
    status = _STATUS[rng.integers(0, len(_STATUS), n)]
    port = rng.integers(0, len(_PORT), n)
    opened = rng.integers(10000, 20000, n)  # days since epoch
    info = np.full(n, (dt.date(2026, 10, 31) - dt.date(1970, 1, 1)).days)
    bal = rng.integers(0, 50000, n)
    delinquent = np.isin(status, ["71", "78", "80"])
    derog = np.isin(status, ["93", "97"])
    closed = status == "13"
    bal = np.where(closed, 0, bal)
    past_due = np.where(delinquent | derog, rng.integers(1, 5000, n), 0)
    chargeoff = np.where(status == "97", rng.integers(100, 9000, n), 0)
    rating = np.where(np.isin(status, ["13", "05"]), "0", "")
    hist_chars = np.array(list("0000000000123BDE"))
    hist = ["".join(r) for r in hist_chars[rng.integers(0, len(hist_chars), (n, 24))]]
    ids = np.arange(start_no, start_no + n)
    df = pl.DataFrame({
        "record_no": ids.astype(np.int64),
        "processing_indicator": np.ones(n, np.int64),
        "time_stamp": (info * 86400 + rng.integers(0, 86400, n)) * 1_000_000,
        "correction_indicator": np.zeros(n, np.int64),
        "identification_number": np.full(n, "OB0000000001"),
        "consumer_account_number": [f"ACCT{i:010d}" for i in ids],
        "portfolio_type": _PORT[port],
        "account_type": _ATYPE[port],
        "date_opened": opened.astype(np.int32),
        "credit_limit": np.where(np.isin(port, [0, 4]), rng.integers(500, 20000, n), 0),
        "highest_credit": rng.integers(500, 90000, n),
        "terms_duration": np.where(port == 0, "REV", np.where(port == 4, "LOC", "060")),
        "terms_frequency": np.full(n, "M"),
        "scheduled_monthly_payment_amount": rng.integers(0, 2000, n),
        "actual_payment_amount": rng.integers(0, 2000, n),
        "account_status": status,
        "payment_rating": rating,
        "payment_history_profile": hist,
        "special_comment": np.full(n, ""),
        "compliance_condition_code": np.where(rng.random(n) < 0.05, "XB", ""),
        "current_balance": bal,
        "amount_past_due": past_due,
        "original_charge_off_amount": chargeoff,
        "date_account_information": info.astype(np.int32),
        "date_first_delinquency": np.where(delinquent | derog, info - 90, -1).astype(np.int32),
        "date_closed": np.where(closed, info - 5, -1).astype(np.int32),
        "date_last_payment": (info - rng.integers(1, 60, n)).astype(np.int32),
        "interest_type_indicator": np.full(n, "F"),
        "surname": _SURNAMES[rng.integers(0, len(_SURNAMES), n)],
        "first_name": _FIRST[rng.integers(0, len(_FIRST), n)],
        "middle_name": np.where(rng.random(n) < 0.5, "A", ""),
        "generation_code": np.where(rng.random(n) < 0.1, "J", ""),
        "social_security_number": rng.integers(100000001, 899999999, n),
        "date_birth": rng.integers(-8000, 10000, n).astype(np.int32),
        "telephone_number": rng.integers(2000000000, 9999999999, n),
        "ecoa_code": np.full(n, "1"),
        "consumer_information_indicator": np.full(n, ""),
        "country_code": np.full(n, "US"),
        "first_line_address": [f"{i % 9999 + 1} MAIN ST" for i in ids],
        "second_line_address": np.where(rng.random(n) < 0.2, "APT 4", ""),
        "city": _CITIES[rng.integers(0, len(_CITIES), n)],
        "state": _STATES[rng.integers(0, len(_STATES), n)],
        "zip_code": np.where(rng.random(n) < 0.5, "62701", "627011234"),
        "address_indicator": np.full(n, ""),
        "residence_code": np.full(n, "O"),
    })
    neg = pl.col
    return df.with_columns(
        neg("time_stamp").cast(pl.Datetime("us")),
        *[pl.when(neg(c) >= -100000).then(neg(c)).cast(pl.Date).alias(c)
          for c in ("date_opened", "date_account_information", "date_birth",
                    "date_last_payment")],
        *[pl.when(neg(c) >= 0).then(neg(c)).cast(pl.Date).alias(c)
          for c in ("date_first_delinquency", "date_closed")],
    )


def current_revolving(as_of: dt.date) -> dict[str, pl.Expr]:
    """Columns of a clean, current revolving account reported as of `as_of` (no balance)."""
    return dict(
        portfolio_type=pl.lit("R"),
        account_type=pl.lit("18"),
        terms_duration=pl.lit("REV"),
        account_status=pl.lit("11"),
        payment_rating=pl.lit(""),
        payment_history_profile=pl.lit("0" * 24),
        date_opened=pl.lit(dt.date(2015, 6, 1)),
        date_account_information=pl.lit(as_of),
        date_first_delinquency=pl.lit(None, pl.Date),
        date_closed=pl.lit(None, pl.Date),
        date_last_payment=pl.lit(as_of - dt.timedelta(days=10)),
        credit_limit=pl.lit(5000),
        amount_past_due=pl.lit(0),
        original_charge_off_amount=pl.lit(0),
    )


def resident_id(born: dt.date, serial: int, region: str = "330106") -> str:
    """A valid 18-character Chinese resident ID (for OB extension segments)."""
    body = f"{region}{born:%Y%m%d}{serial % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def sample_segments(base: pl.DataFrame, kinds: tuple[str, ...], seed: int = 0
                    ) -> dict[str, pl.DataFrame]:
    """One valid segment of each kind per base record (J1/J2 may be listed twice)."""
    rng = np.random.default_rng(seed + 1)
    rec = base.get_column("record_no").to_numpy()
    n = len(rec)
    out: dict[str, list[pl.DataFrame]] = {}
    for seq, kind in enumerate(kinds):
        d: dict = {"record_no": rec, "seq": np.full(n, seq, np.int64)}
        if kind in ("J1", "J2"):
            d |= {
                "surname": _SURNAMES[rng.integers(0, len(_SURNAMES), n)],
                "first_name": _FIRST[rng.integers(0, len(_FIRST), n)],
                "social_security_number": rng.integers(100000001, 899999999, n),
                "date_birth": pl.Series(rng.integers(-8000, 10000, n)).cast(pl.Date),
                "telephone_number": rng.integers(0, 9999999999, n),
                "ecoa_code": np.where(rng.random(n) < 0.1, "Z", "2"),
            }
            if kind == "J2":
                d |= {"country_code": "US", "first_line_address": "9 ELM ST",
                      "city": "BRISTOL", "state": "CT", "zip_code": "06010",
                      "address_indicator": "C", "residence_code": "R"}
        elif kind == "K1":
            d |= {"original_creditor_name": "ORIGINAL BANK NA",
                  "creditor_classification": rng.integers(1, 16, n)}
        elif kind == "K2":
            d |= {"purchased_indicator": np.ones(n, np.int64), "purchased_name": "SELLER LLC"}
        elif kind == "K3":
            ag = rng.integers(0, 3, n)
            d |= {"agency_identifier": ag,
                  "account_number": np.where(ag == 0, "", "FN123456789"),
                  "mortgage_identification_number": "100012345678901234"}
        elif kind == "K4":
            d |= {"specialized_payment_indicator": np.ones(n, np.int64),
                  "balloon_payment_due_date": pl.Series(np.full(n, 21000)).cast(pl.Date),
                  "balloon_payment_amount": rng.integers(0, 99999, n)}
        elif kind == "L1":
            d |= {"change_indicator": np.ones(n, np.int64),
                  "new_consumer_account_number": [f"NEW{r:010d}" for r in rec]}
        elif kind == "N1":
            d |= {"employer_name": "ACME CORP", "first_line_employer_address": "5 WORK RD",
                  "employer_city": "FRANKLIN", "employer_state": "TN", "zip_code": "37064",
                  "occupation": "ENGINEER"}
        elif kind == "OB":
            born = dt.date(1970, 1, 1) + dt.timedelta(days=int(rng.integers(0, 12000)))
            d |= {"national_id_type": "CN_RIC",
                  "national_id": [resident_id(born, int(r)) for r in rec],
                  "telephone_e164": [f"+86138{int(r) % 10**8:08d}" for r in rec],
                  "currency": "CNY"}
        out.setdefault(kind, []).append(pl.DataFrame(d))
    return {k: pl.concat(v) for k, v in out.items()}
