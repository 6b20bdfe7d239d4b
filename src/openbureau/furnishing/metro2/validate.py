"""Record- and file-level validation, vectorised with polars expressions (fact sheet §7, §8).

Field-level parse checks (numbers, dates, charset, required) happen in :mod:`decode`; this
module adds code domains, cross-field rules, header checks and trailer reconciliation. Rules
that go beyond moov-io's are named ``strict_*`` so results stay comparable with moov's.
"""

from __future__ import annotations

import polars as pl

from . import codes as C
from .errors import FileRejected
from .layouts import TRAILER_COUNT_FIELDS

_c = pl.col


def _blank(name: str) -> pl.Expr:
    return _c(name).fill_null("") == ""


def _not_in(name: str, domain, allow_blank: bool = True) -> pl.Expr:
    e = ~_c(name).is_in(sorted(domain))
    if allow_blank:
        e = e & ~_blank(name)
    return e.fill_null(False)


# (field, rule, message, violated-expression)
BASE_RULES: list[tuple[str, str, str, pl.Expr]] = [
    ("correction_indicator", "domain", "must be 0 or 1",
     ~_c("correction_indicator").is_in([0, 1])),
    ("identification_number", "domain", "must not be all zeros or all nines",
     _c("identification_number").str.contains(r"^(0+|9+)$")),
    ("portfolio_type", "domain", "unknown portfolio type",
     _not_in("portfolio_type", C.PORTFOLIO_TYPES, False)),
    ("account_type", "domain", "unknown account type",
     _not_in("account_type", C.ACCOUNT_TYPES, False)),
    ("terms_duration", "domain", "must be LOC, REV or a number of payments",
     ~_c("terms_duration").str.contains(r"^(LOC|REV|[0-9]{1,3})$")),
    ("terms_frequency", "domain", "unknown terms frequency",
     _not_in("terms_frequency", C.TERMS_FREQUENCIES)),
    ("account_status", "domain", "unknown account status",
     _not_in("account_status", C.ACCOUNT_STATUSES, False)),
    ("payment_rating", "domain", "payment rating is required for this account status",
     _c("account_status").is_in(sorted(C.STATUSES_NEEDING_RATING))
     & ~_c("payment_rating").is_in(sorted(C.PAYMENT_RATINGS))),
    ("payment_rating", "domain", "payment rating must be blank for this account status",
     ~_c("account_status").is_in(sorted(C.STATUSES_NEEDING_RATING)) & ~_blank("payment_rating")),
    ("payment_history_profile", "domain", "24 characters from 0-6 B D E G H J K L Z or blank",
     ~_c("payment_history_profile").str.contains(r"^[0-6BDEGHJKLZ ]{24}$")),
    ("special_comment", "domain", "unknown special comment",
     _not_in("special_comment", C.SPECIAL_COMMENTS)),
    ("interest_type_indicator", "domain", "must be F, V or blank",
     _not_in("interest_type_indicator", C.INTEREST_TYPES)),
    ("social_security_number", "ssn_or_dob",
     "SSN and date of birth are both missing (allowed only with ECOA 2 or 5)",
     (_c("social_security_number") == 0) & _c("date_birth").is_null()
     & ~_c("ecoa_code").is_in(["2", "5"])),
    # --- stricter than moov ---------------------------------------------------------
    ("ecoa_code", "strict_domain", "unknown ECOA code", _not_in("ecoa_code", C.ECOA_CODES, False)),
    ("compliance_condition_code", "strict_domain", "unknown compliance condition code",
     _not_in("compliance_condition_code", C.COMPLIANCE_CONDITION_CODES)),
    ("generation_code", "strict_domain", "must be J, S, 2-9 or blank",
     _not_in("generation_code", C.GENERATION_CODES)),
    ("zip_code", "strict_format", "ZIP code must be 5 or 9 digits",
     ~_c("zip_code").str.contains(r"^([0-9]{5}|[0-9]{9})$")),
    ("date_first_delinquency", "strict_delinquency",
     "a delinquent account status needs a date of first delinquency",
     _c("account_status").is_in(sorted(C.DELINQUENT_STATUSES | C.DEROGATORY_NEEDING_DOFD))
     & _c("date_first_delinquency").is_null()),
    ("amount_past_due", "strict_delinquency", "a past-due account status needs an amount past due",
     _c("account_status").is_in(sorted(C.DELINQUENT_STATUSES)) & (_c("amount_past_due") <= 0)),
    ("date_closed", "strict_closed", "a closed or paid account status needs a date closed",
     _c("account_status").is_in(sorted(C.CLOSED_STATUSES)) & _c("date_closed").is_null()),
    ("current_balance", "strict_closed", "a closed or paid account must have a zero balance",
     _c("account_status").is_in(sorted(C.CLOSED_STATUSES)) & (_c("current_balance") != 0)),
    ("original_charge_off_amount", "strict_charge_off",
     "a charge-off status needs an original charge-off amount",
     _c("account_status").is_in(sorted(C.CHARGE_OFF_STATUSES))
     & (_c("original_charge_off_amount") <= 0)),
    ("original_charge_off_amount", "strict_charge_off",
     "an original charge-off amount needs a charge-off status or payment rating L",
     (_c("original_charge_off_amount") > 0)
     & ~_c("account_status").is_in(sorted(C.CHARGE_OFF_STATUSES))
     & (_c("payment_rating") != "L")),
    ("date_account_information", "strict_date_order",
     "date opened is after the date of account information",
     _c("date_opened") > _c("date_account_information")),
    ("date_closed", "strict_date_order", "date closed is before date opened",
     _c("date_closed") < _c("date_opened")),
] + [
    (name, "strict_non_negative", "amount must not be negative", _c(name) < 0)
    for name in ("credit_limit", "highest_credit", "scheduled_monthly_payment_amount",
                 "actual_payment_amount", "current_balance", "amount_past_due",
                 "original_charge_off_amount", "social_security_number", "telephone_number")
]

_J_COMMON: list[tuple[str, str, str, pl.Expr]] = [
    ("generation_code", "domain", "must be J, S, 2-9 or blank",
     _not_in("generation_code", C.GENERATION_CODES)),
    ("ecoa_code", "strict_domain", "unknown ECOA code", _not_in("ecoa_code", C.ECOA_CODES, False)),
]

SEGMENT_RULES: dict[str, list[tuple[str, str, str, pl.Expr]]] = {
    "J1": _J_COMMON + [
        ("social_security_number", "ssn_or_dob", "SSN and date of birth are both missing",
         (_c("social_security_number") == 0) & _c("date_birth").is_null()),
    ],
    "J2": _J_COMMON + [
        ("social_security_number", "ssn_or_dob",
         "SSN and date of birth are both missing (allowed only with ECOA W)",
         (_c("social_security_number") == 0) & _c("date_birth").is_null()
         & (_c("ecoa_code") != "W")),
        ("address_indicator", "domain", "unknown address indicator",
         _not_in("address_indicator", C.ADDRESS_INDICATORS)),
        ("residence_code", "domain", "must be O, R or blank",
         _not_in("residence_code", C.RESIDENCE_CODES)),
    ],
    "K1": [("creditor_classification", "domain", "must be 01-15",
            ~_c("creditor_classification").is_between(1, 15))],
    "K2": [
        ("purchased_indicator", "domain", "must be 1, 2 or 9",
         ~_c("purchased_indicator").is_in([1, 2, 9])),
        ("purchased_name", "domain", "must be blank when the indicator is 9",
         (_c("purchased_indicator") == 9) & ~_blank("purchased_name")),
        ("purchased_name", "required", "required when the indicator is 1 or 2",
         _c("purchased_indicator").is_in([1, 2]) & _blank("purchased_name")),
    ],
    "K3": [
        ("agency_identifier", "domain", "must be 00, 01 or 02",
         ~_c("agency_identifier").is_in([0, 1, 2])),
        ("account_number", "domain", "must be blank when the agency identifier is 00",
         (_c("agency_identifier") == 0) & ~_blank("account_number")),
    ],
    "K4": [("specialized_payment_indicator", "domain", "must be 01 or 02",
            ~_c("specialized_payment_indicator").is_in([1, 2]))],
    "L1": [
        ("change_indicator", "domain", "must be 1, 2 or 3",
         ~_c("change_indicator").is_in([1, 2, 3])),
        ("new_identification_number", "domain", "must be blank when the indicator is 1",
         (_c("change_indicator") == 1) & ~_blank("new_identification_number")),
        ("new_consumer_account_number", "domain", "must be blank when the indicator is 2",
         (_c("change_indicator") == 2) & ~_blank("new_consumer_account_number")),
    ],
    "N1": [],
}


def apply_rules(df: pl.DataFrame, rules: list[tuple[str, str, str, pl.Expr]],
                segment: str) -> pl.DataFrame:
    """Evaluate every rule over `df` in one pass; one rejection row per (row, rule) hit."""
    if df.height == 0 or not rules:
        return _empty()
    hits = df.select(
        _c("record_no"), _c("byte_offset"),
        *[e.fill_null(False).alias(f"r{i}") for i, (_, _, _, e) in enumerate(rules)],
    )
    parts = []
    counts = hits.select(pl.sum(f"r{i}") for i in range(len(rules))).row(0)
    for i, (fld, rule, msg, _) in enumerate(rules):
        if counts[i]:
            parts.append(hits.filter(_c(f"r{i}")).select(
                "record_no", "byte_offset", segment=pl.lit(segment), field=pl.lit(fld),
                rule=pl.lit(rule), message=pl.lit(msg)))
    return pl.concat(parts) if parts else _empty()


def _empty() -> pl.DataFrame:
    from .errors import empty_rejections

    return empty_rejections()


def validate_records(base: pl.DataFrame, segments: dict[str, pl.DataFrame]) -> pl.DataFrame:
    parts = [apply_rules(base, BASE_RULES, "BASE")]
    for name, df in segments.items():
        parts.append(apply_rules(df, SEGMENT_RULES.get(name, []), name))
    return pl.concat(parts)


def check_header(header: dict, offset: int) -> None:
    """Header problems make the whole file untrustworthy."""
    problems = []
    if header.get("record_identifier") != "HEADER":
        problems.append("record identifier is not HEADER")
    for name in ("activity_date", "date_created"):
        if header.get(name) is None:
            problems.append(f"{name} is missing or not a valid date")
    for name in ("reporter_name", "reporter_address"):
        if not header.get(name):
            problems.append(f"{name} is blank")
    if (header.get("activity_date") and header.get("date_created")
            and header["date_created"] < header["activity_date"]):
        problems.append("date_created is before activity_date")
    for p in header.get("_problems", []):
        problems.append(p)
    if problems:
        raise FileRejected("header", "; ".join(problems), offset, 1)


class TrailerTotals:
    """Running trailer totals recomputed from the data (fact sheet §7)."""

    def __init__(self) -> None:
        self.t: dict[str, int] = dict.fromkeys(TRAILER_COUNT_FIELDS, 0)
        self.k3_agency_00 = 0

    def add(self, base: pl.DataFrame, segments: dict[str, pl.DataFrame]) -> None:
        t = self.t
        t["total_base_records"] += base.height
        if base.height:
            st = base.group_by("account_status").len()
            for status, n in st.iter_rows():
                key = f"total_status_code_{(status or '').lower()}"
                if key in t:
                    t[key] += n
        ssn_ok = (_c("social_security_number") > 0) & (_c("social_security_number") < 999999999)
        agg = [
            ssn_ok.sum().alias("ssn"), _c("date_birth").is_not_null().sum().alias("dob"),
            (_c("telephone_number") > 0).sum().alias("tel"),
            (_c("ecoa_code") == "Z").sum().alias("z"),
        ]
        b = base.select(agg).row(0, named=True) if base.height else dict.fromkeys(
            ("ssn", "dob", "tel", "z"), 0)
        t["total_social_numbers_base_segments"] += b["ssn"] or 0
        t["total_dates_birth_base_segments"] += b["dob"] or 0
        t["total_telephone_numbers_all_segments"] += b["tel"] or 0
        t["total_ecoa_code_z"] += b["z"] or 0
        for name, key in (("J1", "j1"), ("J2", "j2")):
            df = segments.get(name)
            if df is None or df.height == 0:
                continue
            s = df.select(agg).row(0, named=True)
            t[f"total_consumer_segments_{key}"] += df.height
            t[f"total_social_numbers_{key}_segments"] += s["ssn"] or 0
            t[f"total_dates_birth_{key}_segments"] += s["dob"] or 0
            t["total_telephone_numbers_all_segments"] += s["tel"] or 0
            t["total_ecoa_code_z"] += s["z"] or 0

        def cnt(name: str, expr: pl.Expr) -> int:
            df = segments.get(name)
            if df is None or df.height == 0:
                return 0
            return int(df.select(expr.fill_null(False).sum()).item())

        t["total_employment_segments"] += cnt("N1", ~_blank("employer_name"))
        t["total_original_creditor_segments"] += cnt("K1", ~_blank("original_creditor_name"))
        t["total_purchased_to_segments"] += cnt("K2", _c("purchased_indicator").is_in([1, 2]))
        t["total_mortgage_information_segments"] += segments["K3"].height if "K3" in segments else 0
        self.k3_agency_00 += cnt("K3", _c("agency_identifier") == 0)
        t["total_payment_information_segments"] += cnt(
            "K4", _c("specialized_payment_indicator").is_in([1, 2]))
        t["total_change_segments"] += cnt("L1", _c("change_indicator").is_in([1, 2, 3]))

    def finish(self, blocks: int) -> dict[str, int]:
        t = dict(self.t)
        for k in ("social_numbers", "dates_birth"):
            t[f"total_{k}_all_segments"] = sum(
                t[f"total_{k}_{s}_segments"] for s in ("base", "j1", "j2"))
        t["block_count"] = t["total_base_records"] + 2
        self.blocks = blocks
        return t


def reconcile(trailer: dict, totals: TrailerTotals, blocks: int, offset: int,
              record_no: int) -> dict[str, int]:
    """Compare every trailer count with the recomputed one; any mismatch rejects the file."""
    expected = totals.finish(blocks)
    bad = []
    if trailer.get("_problems"):
        raise FileRejected("trailer", "; ".join(trailer["_problems"]), offset, record_no)
    if trailer.get("record_identifier") != "TRAILER":
        bad.append(f"record identifier is {trailer.get('record_identifier')!r}, not TRAILER")
    for name in TRAILER_COUNT_FIELDS:
        got, want = trailer.get(name), expected[name]
        if got == want:
            continue
        if name == "block_count" and blocks and got == blocks + 1:
            continue  # one block per header/base plus the trailer
        if name == "total_mortgage_information_segments" and got == totals.k3_agency_00:
            continue  # moov-io counts only K3s with agency 00
        bad.append(f"{name}: trailer says {got}, file has {want}")
    if bad:
        raise FileRejected("trailer_mismatch", "; ".join(bad), offset, record_no)
    return expected
