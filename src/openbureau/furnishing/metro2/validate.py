"""Record- and file-level validation (fact sheet §7, §8).

Field-level parse checks (numbers, dates, charset, required) happen in :mod:`decode`; this
module adds code domains, cross-field rules, header checks and trailer reconciliation. Record
rules are numpy masks over a :class:`Decoded` chunk: code domains are table lookups on the raw
field bytes, so no text is materialised to validate it. Rules
that go beyond moov-io's are named ``strict_*`` so results stay comparable with moov's.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

import numpy as np
import polars as pl

from . import codes as C
from .decode import Decoded, Problem
from .errors import FileRejected
from .layouts import TRAILER_COUNT_FIELDS

_c = pl.col
Rule = tuple[str, str, str, Callable[[Decoded], np.ndarray]]  # field, rule, message, violated


# -- rule atoms -------------------------------------------------------------------------------
# Each atom is "definitely true" for a row: a null number or date makes it False, which is what
# the polars rules these replace did (Kleene AND of the atoms, nulls filled with False).

_LUTS: dict[tuple[frozenset[str], int], np.ndarray] = {}


def _code_lut(domain: frozenset[str], width: int) -> np.ndarray:
    """Membership table indexed by the field's raw bytes read as a little-endian integer."""
    key = (domain, width)
    if key not in _LUTS:
        lut = np.zeros(1 << (8 * width), dtype=bool)
        for code in domain:
            raw = code.ljust(width).encode()
            if len(raw) == width:
                lut[int.from_bytes(raw, "little")] = True
        _LUTS[key] = lut
    return _LUTS[key]


def is_in(d: Decoded, name: str, domain) -> np.ndarray:
    """Trimmed text is one of `domain` (decided on the raw bytes: bad bytes match nothing)."""
    f = d.specs[name]
    lut = _code_lut(frozenset(domain), f.length)
    if f.length <= 2:
        return lut.take(d.block.key(f.offset, f.length))
    return lut[d.block.code(f.offset, f.length)]


def blank(d: Decoded, name: str) -> np.ndarray:
    return d.lengths[name] == 0


_BAD_LUTS: dict[tuple[frozenset[str], int, bool], np.ndarray] = {}


def not_in(d: Decoded, name: str, domain, allow_blank: bool = True) -> np.ndarray:
    f = d.specs[name]
    if f.length > 2:
        bad = ~is_in(d, name, domain)
        return bad & ~blank(d, name) if allow_blank else bad
    # a one- or two-byte code is blank exactly when its raw bytes are: one lookup decides
    key = (frozenset(domain), f.length, allow_blank)
    if key not in _BAD_LUTS:
        lut = ~_code_lut(key[0], f.length)
        if allow_blank:
            lut[int.from_bytes(b" " * f.length, "little")] = False
        _BAD_LUTS[key] = lut
    return _BAD_LUTS[key].take(d.block.key(f.offset, f.length))


def num(d: Decoded, name: str, test: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    val, ok = d.values[name]
    return ok & test(val)


def null(d: Decoded, name: str) -> np.ndarray:
    return ~d.values[name][1]


def both(d: Decoded, a: str, b: str, test) -> np.ndarray:
    (va, oka), (vb, okb) = d.values[a], d.values[b]
    return oka & okb & test(va, vb)


def digits_only(d: Decoded, name: str) -> np.ndarray:
    """The trimmed text is one or more ASCII digits."""
    f = d.specs[name]
    return d.block.in_set(f.offset, f.length, "0123456789")


def made_of(d: Decoded, name: str, chars: str) -> np.ndarray:
    """Every byte of the field, blanks included, is in `chars`."""
    f = d.specs[name]
    return d.block.in_set(f.offset, f.length, chars, trim=False)


def filled_with(d: Decoded, name: str, chars: str) -> np.ndarray:
    """The trimmed text is one character of `chars` repeated (one or more times)."""
    f = d.specs[name]
    return d.block.in_set(f.offset, f.length, chars, repeated=True)


def _status(domain) -> Callable[[Decoded], np.ndarray]:
    return lambda d: is_in(d, "account_status", domain)


def _domain(name: str, domain, allow_blank: bool = True) -> Callable[[Decoded], np.ndarray]:
    return lambda d: not_in(d, name, domain, allow_blank)


_NEEDS_RATING = _status(C.STATUSES_NEEDING_RATING)
_DELINQUENT = _status(C.DELINQUENT_STATUSES)
_CLOSED = _status(C.CLOSED_STATUSES)
_CHARGED_OFF = _status(C.CHARGE_OFF_STATUSES)

BASE_RULES: list[Rule] = [
    ("correction_indicator", "domain", "must be 0 or 1",
     lambda d: num(d, "correction_indicator", lambda v: (v != 0) & (v != 1))),
    ("identification_number", "domain", "must not be all zeros or all nines",
     lambda d: filled_with(d, "identification_number", "09")),
    ("portfolio_type", "domain", "unknown portfolio type",
     _domain("portfolio_type", C.PORTFOLIO_TYPES, False)),
    ("account_type", "domain", "unknown account type",
     _domain("account_type", C.ACCOUNT_TYPES, False)),
    ("terms_duration", "domain", "must be LOC, REV or a number of payments",
     lambda d: ~(is_in(d, "terms_duration", ("LOC", "REV")) | digits_only(d, "terms_duration"))),
    ("terms_frequency", "domain", "unknown terms frequency",
     _domain("terms_frequency", C.TERMS_FREQUENCIES)),
    ("account_status", "domain", "unknown account status",
     _domain("account_status", C.ACCOUNT_STATUSES, False)),
    ("payment_rating", "domain", "payment rating is required for this account status",
     lambda d: _NEEDS_RATING(d) & ~is_in(d, "payment_rating", C.PAYMENT_RATINGS)),
    ("payment_rating", "domain", "payment rating must be blank for this account status",
     lambda d: ~_NEEDS_RATING(d) & ~blank(d, "payment_rating")),
    ("payment_history_profile", "domain", "24 characters from 0-6 B D E G H J K L Z or blank",
     lambda d: ~made_of(d, "payment_history_profile", C.PAYMENT_HISTORY_CHARS)),
    ("special_comment", "domain", "unknown special comment",
     _domain("special_comment", C.SPECIAL_COMMENTS)),
    ("interest_type_indicator", "domain", "must be F, V or blank",
     _domain("interest_type_indicator", C.INTEREST_TYPES)),
    ("social_security_number", "ssn_or_dob",
     "SSN and date of birth are both missing (allowed only with ECOA 2 or 5)",
     lambda d: num(d, "social_security_number", lambda v: v == 0) & null(d, "date_birth")
     & ~is_in(d, "ecoa_code", ("2", "5"))),
    # --- stricter than moov ---------------------------------------------------------
    ("ecoa_code", "strict_domain", "unknown ECOA code", _domain("ecoa_code", C.ECOA_CODES, False)),
    ("compliance_condition_code", "strict_domain", "unknown compliance condition code",
     _domain("compliance_condition_code", C.COMPLIANCE_CONDITION_CODES)),
    ("generation_code", "strict_domain", "must be J, S, 2-9 or blank",
     _domain("generation_code", C.GENERATION_CODES)),
    # Only a US address has a ZIP code; another country's postal code keeps its own form.
    ("zip_code", "strict_format", "ZIP code must be 5 or 9 digits",
     lambda d: ~(((d.lengths["zip_code"] == 5) | (d.lengths["zip_code"] == 9))
                 & digits_only(d, "zip_code"))
     & (blank(d, "country_code") | is_in(d, "country_code", ("US",)))),
    ("date_first_delinquency", "strict_delinquency",
     "a delinquent account status needs a date of first delinquency",
     lambda d: is_in(d, "account_status", C.DELINQUENT_STATUSES | C.DEROGATORY_NEEDING_DOFD)
     & null(d, "date_first_delinquency")),
    ("amount_past_due", "strict_delinquency", "a past-due account status needs an amount past due",
     lambda d: _DELINQUENT(d) & num(d, "amount_past_due", lambda v: v <= 0)),
    ("date_closed", "strict_closed", "a closed or paid account status needs a date closed",
     lambda d: _CLOSED(d) & null(d, "date_closed")),
    ("current_balance", "strict_closed", "a closed or paid account must have a zero balance",
     lambda d: _CLOSED(d) & num(d, "current_balance", lambda v: v != 0)),
    ("original_charge_off_amount", "strict_charge_off",
     "a charge-off status needs an original charge-off amount",
     lambda d: _CHARGED_OFF(d) & num(d, "original_charge_off_amount", lambda v: v <= 0)),
    ("original_charge_off_amount", "strict_charge_off",
     "an original charge-off amount needs a charge-off status or payment rating L",
     lambda d: num(d, "original_charge_off_amount", lambda v: v > 0) & ~_CHARGED_OFF(d)
     & ~is_in(d, "payment_rating", ("L",))),
    ("date_account_information", "strict_date_order",
     "date opened is after the date of account information",
     lambda d: both(d, "date_opened", "date_account_information", np.greater)),
    ("date_closed", "strict_date_order", "date closed is before date opened",
     lambda d: both(d, "date_closed", "date_opened", np.less)),
] + [
    (name, "strict_non_negative", "amount must not be negative",
     lambda d, name=name: num(d, name, lambda v: v < 0))
    for name in ("credit_limit", "highest_credit", "scheduled_monthly_payment_amount",
                 "actual_payment_amount", "current_balance", "amount_past_due",
                 "original_charge_off_amount", "social_security_number", "telephone_number")
]


def _ssn_and_dob_missing(d: Decoded) -> np.ndarray:
    return num(d, "social_security_number", lambda v: v == 0) & null(d, "date_birth")


_J_COMMON: list[Rule] = [
    ("generation_code", "domain", "must be J, S, 2-9 or blank",
     _domain("generation_code", C.GENERATION_CODES)),
    ("ecoa_code", "strict_domain", "unknown ECOA code", _domain("ecoa_code", C.ECOA_CODES, False)),
]


def _one_of(name: str, allowed) -> Callable[[Decoded], np.ndarray]:
    return lambda d: num(d, name, lambda v: ~np.isin(v, allowed))


def _texts(d: Decoded, name: str) -> pl.Series:
    # Extension segments are rare, so their few free-text checks may build strings.
    return pl.Series(d.arrays[name]).cast(pl.Utf8).fill_null("")


def _e164(d: Decoded) -> np.ndarray:
    return _texts(d, "telephone_e164").str.contains(r"^\+[1-9][0-9]{7,14}$").to_numpy()


def _capitals(d: Decoded, name: str, width: int) -> np.ndarray:
    return _texts(d, name).str.contains(f"^[A-Z]{{{width}}}$").to_numpy()


SEGMENT_RULES: dict[str, list[Rule]] = {
    "J1": _J_COMMON + [
        ("social_security_number", "ssn_or_dob", "SSN and date of birth are both missing",
         _ssn_and_dob_missing),
    ],
    "J2": _J_COMMON + [
        ("social_security_number", "ssn_or_dob",
         "SSN and date of birth are both missing (allowed only with ECOA W)",
         lambda d: _ssn_and_dob_missing(d) & ~is_in(d, "ecoa_code", ("W",))),
        ("address_indicator", "domain", "unknown address indicator",
         _domain("address_indicator", C.ADDRESS_INDICATORS)),
        ("residence_code", "domain", "must be O, R or blank",
         _domain("residence_code", C.RESIDENCE_CODES)),
    ],
    "K1": [("creditor_classification", "domain", "must be 01-15",
            lambda d: num(d, "creditor_classification", lambda v: (v < 1) | (v > 15)))],
    "K2": [
        ("purchased_indicator", "domain", "must be 1, 2 or 9",
         _one_of("purchased_indicator", [1, 2, 9])),
        ("purchased_name", "domain", "must be blank when the indicator is 9",
         lambda d: num(d, "purchased_indicator", lambda v: v == 9) & ~blank(d, "purchased_name")),
        ("purchased_name", "required", "required when the indicator is 1 or 2",
         lambda d: num(d, "purchased_indicator", lambda v: (v == 1) | (v == 2))
         & blank(d, "purchased_name")),
    ],
    "K3": [
        ("agency_identifier", "domain", "must be 00, 01 or 02",
         _one_of("agency_identifier", [0, 1, 2])),
        ("account_number", "domain", "must be blank when the agency identifier is 00",
         lambda d: num(d, "agency_identifier", lambda v: v == 0) & ~blank(d, "account_number")),
    ],
    "K4": [("specialized_payment_indicator", "domain", "must be 01 or 02",
            _one_of("specialized_payment_indicator", [1, 2]))],
    "L1": [
        ("change_indicator", "domain", "must be 1, 2 or 3", _one_of("change_indicator", [1, 2, 3])),
        ("new_identification_number", "domain", "must be blank when the indicator is 1",
         lambda d: num(d, "change_indicator", lambda v: v == 1)
         & ~blank(d, "new_identification_number")),
        ("new_consumer_account_number", "domain", "must be blank when the indicator is 2",
         lambda d: num(d, "change_indicator", lambda v: v == 2)
         & ~blank(d, "new_consumer_account_number")),
    ],
    "N1": [],
    "OB": [
        ("national_id_type", "domain", "must be CN_RIC or US_SSN",
         lambda d: ~_texts(d, "national_id_type").is_in(sorted(C.EXTENSION_ID_TYPES)).to_numpy()),
        ("telephone_e164", "domain", "must be + and 8 to 15 digits, or blank",
         lambda d: ~blank(d, "telephone_e164") & ~_e164(d)),
        ("currency", "domain", "must be three capital letters or blank",
         lambda d: ~blank(d, "currency") & ~_capitals(d, "currency", 3)),
    ],
}


def rule_problems(d: Decoded, rules: list[Rule]) -> list[Problem]:
    """Evaluate every rule over the decoded records; only rules with hits are returned."""
    if d.n == 0:
        return []
    out = []
    for fld, rule, msg, violated in rules:
        mask = violated(d)
        if mask.any():
            out.append(Problem(fld, rule, msg, mask))
    return out


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


class Counts(ABC):
    """What the trailer totals count, over one chunk: rows of the base ("BASE") or a segment,
    base account statuses (lower-cased), and rows of a segment whose field passes a test:
    ``between`` (lo, hi) exclusive, hi None = no bound; ``present`` (not null); ``text`` equal
    to a string; ``nonblank``; ``in`` a tuple of integers. Nulls never pass."""

    def __init__(self, base, segments: dict) -> None:
        self.parts = {"BASE": base, **segments}

    def rows(self, name: str) -> int:
        part = self.parts.get(name)
        return 0 if part is None else self._size(part)

    @abstractmethod
    def _size(self, part) -> int:
        ...

    @abstractmethod
    def statuses(self) -> dict[str, int]:
        ...

    @abstractmethod
    def count(self, name: str, field: str, test: str, arg=None) -> int:
        ...


class FrameCounts(Counts):
    """Counts over polars frames of raw fields."""

    def _size(self, part: pl.DataFrame) -> int:
        return part.height

    def statuses(self) -> dict[str, int]:
        base = self.parts["BASE"]
        if not base.height:
            return {}
        out: dict[str, int] = {}
        for status, n in base.group_by("account_status").len().iter_rows():
            key = (status or "").lower()
            out[key] = out.get(key, 0) + n
        return out

    def count(self, name: str, field: str, test: str, arg=None) -> int:
        if not self.rows(name):
            return 0
        v = _c(field)
        expr = {
            "between": lambda: (v > arg[0]) & (v < arg[1] if arg[1] is not None else True),
            "present": lambda: v.is_not_null(),
            "text": lambda: v == arg,
            "nonblank": lambda: v.fill_null("") != "",
            "in": lambda: v.is_in(list(arg)),
        }[test]()
        return int(self.parts[name].select(expr.fill_null(False).sum()).item())


class DecodedCounts(Counts):
    """Counts straight from the reader's decoded numpy values and raw bytes."""

    def _size(self, part: Decoded) -> int:
        return part.n

    def statuses(self) -> dict[str, int]:
        d = self.parts["BASE"]
        if not d.n:
            return {}
        f = d.specs["account_status"]
        codes = np.bincount(d.block.key(f.offset, f.length), minlength=1 << 16)
        out: dict[str, int] = {}
        for code in np.nonzero(codes)[0]:
            raw = int(code).to_bytes(2, "little").decode("latin-1").rstrip(" ")
            if raw.isascii():  # other bytes read as '?' and match no trailer count
                out[raw.lower()] = out.get(raw.lower(), 0) + int(codes[code])
        return out

    def count(self, name: str, field: str, test: str, arg=None) -> int:
        if not self.rows(name):
            return 0
        d = self.parts[name]
        if test == "nonblank":
            return int(np.count_nonzero(~blank(d, field)))
        if test == "text":
            return int(np.count_nonzero(is_in(d, field, (arg,))))
        val, ok = d.values[field]
        if test == "present":
            return int(np.count_nonzero(ok))
        if test == "in":
            return int(np.count_nonzero(ok & np.isin(val, arg)))
        hit = ok & (val > arg[0])
        if arg[1] is not None:
            hit &= val < arg[1]
        return int(np.count_nonzero(hit))


class TrailerTotals:
    """Running trailer totals recomputed from the data (fact sheet §7)."""

    def __init__(self) -> None:
        self.t: dict[str, int] = dict.fromkeys(TRAILER_COUNT_FIELDS, 0)
        self.k3_agency_00 = 0

    def add(self, base: pl.DataFrame, segments: dict[str, pl.DataFrame]) -> None:
        """Count frames of raw fields (the writer's side)."""
        self.add_counts(FrameCounts(base, segments))

    def add_counts(self, c: Counts) -> None:
        t = self.t
        t["total_base_records"] += c.rows("BASE")
        for status, n in c.statuses().items():
            key = f"total_status_code_{status}"
            if key in t:
                t[key] += n
        for name, key in (("BASE", "base"), ("J1", "j1"), ("J2", "j2")):
            if not c.rows(name):
                continue
            if name != "BASE":
                t[f"total_consumer_segments_{key}"] += c.rows(name)
            t[f"total_social_numbers_{key}_segments"] += c.count(
                name, "social_security_number", "between", (0, 999999999))
            t[f"total_dates_birth_{key}_segments"] += c.count(name, "date_birth", "present")
            t["total_telephone_numbers_all_segments"] += c.count(
                name, "telephone_number", "between", (0, None))
            t["total_ecoa_code_z"] += c.count(name, "ecoa_code", "text", "Z")
        t["total_employment_segments"] += c.count("N1", "employer_name", "nonblank")
        t["total_original_creditor_segments"] += c.count(
            "K1", "original_creditor_name", "nonblank")
        t["total_purchased_to_segments"] += c.count("K2", "purchased_indicator", "in", (1, 2))
        t["total_mortgage_information_segments"] += c.rows("K3")
        self.k3_agency_00 += c.count("K3", "agency_identifier", "in", (0,))
        t["total_payment_information_segments"] += c.count(
            "K4", "specialized_payment_indicator", "in", (1, 2))
        t["total_change_segments"] += c.count("L1", "change_indicator", "in", (1, 2, 3))

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
