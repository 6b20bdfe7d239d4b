"""Record validation on whole columns: types, code domains, dates, cross-field rules, checksums.

`validate_chunk` turns a raw text chunk into typed rows that passed every rule, plus one error
row per problem found. A record with any error is rejected; the others load.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy as np
import polars as pl
from stdnum.cn import ric
from stdnum.exceptions import ValidationError
from stdnum.us import ssn

from openbureau.furnishing.errors import ERROR_SCHEMA
from openbureau.furnishing.schema import (
    DELINQUENT_STATUSES,
    FIELDS,
    PAYMENT_HISTORY_CHARS,
    PAYMENT_HISTORY_LENGTH,
    REQUIRED_FIELDS,
    TYPED_SCHEMA,
    AccountStatus,
    AccountType,
    NationalIdType,
)

MAX_AMOUNT = 10**12
MAX_LENGTHS = {
    "full_name": 200,
    "account_ref": 64,
    "address": 300,
    "phone": 32,
    "national_id": 32,
}
MIN_AGE, MAX_AGE = 14, 120
DATE_FIELDS = [f.name for f in FIELDS if f.dtype == pl.Date]
INT_FIELDS = [f.name for f in FIELDS if f.dtype == pl.Int64]
CODE_DOMAINS = {
    "national_id_type": [t.value for t in NationalIdType],
    "account_type": [t.value for t in AccountType],
    "account_status": [s.value for s in AccountStatus],
}


@dataclass(frozen=True)
class Rule:
    """One check: rows where `violated` is true get an error naming `field` and `rule`."""

    field: str
    rule: str
    violated: pl.Expr
    message: pl.Expr


def rule_errors(rows: pl.DataFrame, rules: Sequence[Rule]) -> pl.DataFrame:
    """One error row (record_no, field, rule, message) per rule each of `rows` breaks."""
    if rows.is_empty():  # the usual chunk: planning forty empty branches took 15 ms
        return pl.DataFrame(schema=ERROR_SCHEMA)
    flags = rows.select(
        pl.col("record_no"),
        *[r.violated.fill_null(False).alias(f"v{i}") for i, r in enumerate(rules)],
        *[r.message.alias(f"m{i}") for i, r in enumerate(rules)],
    )
    # One lazy plan for all rules: a query per rule costs more in overhead than in work.
    return (
        pl.concat(
            [
                flags.lazy()
                .filter(pl.col(f"v{i}"))
                .select(
                    pl.col("record_no"),
                    pl.lit(rule.field).alias("field"),
                    pl.lit(rule.rule).alias("rule"),
                    pl.col(f"m{i}").fill_null(rule.rule).alias("message"),
                )
                for i, rule in enumerate(rules)
            ],
            how="vertical",
        )
        .cast(ERROR_SCHEMA)
        .collect()
    )


def _msg(*parts: str | pl.Expr) -> pl.Expr:
    return pl.concat_str([p if isinstance(p, pl.Expr) else pl.lit(p) for p in parts])


def _quoted(name: str) -> pl.Expr:
    return pl.lit("'") + pl.col(name).str.slice(0, 40) + pl.lit("'")


def normalize_national_id_text(value: str) -> str:
    return re.sub(r"[\s\-]", "", value).upper()


def normalize_national_id(col: pl.Expr) -> pl.Expr:
    return col.str.replace_all(r"[\s\-]", "").str.to_uppercase()


_RIC_WEIGHTS = np.array([pow(2, 17 - i, 11) for i in range(17)], dtype=np.int64)


def _ric_valid(ids: pl.Series) -> pl.Series:
    """Chinese resident IDs, checked on whole columns with the rules of stdnum.cn.ric.

    The check digit (ISO 7064 MOD 11-2) and the birth date are computed with NumPy and
    polars; the birthplace is asked of stdnum once per distinct six-digit region code,
    because that lookup is slow and there are only a few thousand regions.
    """
    text = ids.fill_null("")
    shape_ok = text.str.contains(r"^[0-9]{17}[0-9X]$").to_numpy()
    padded = text.str.pad_end(18, "0").str.slice(0, 18)
    raw = np.frombuffer("".join(padded.to_list()).encode("ascii", "replace"), dtype=np.uint8)
    digits = raw.reshape(-1, 18)[:, :17].astype(np.int64) - 48
    expected = (12 - (digits * _RIC_WEIGHTS).sum(axis=1) % 11) % 11
    last = raw.reshape(-1, 18)[:, 17]
    actual = np.where(last == ord("X"), 10, last.astype(np.int64) - 48)
    checksum_ok = shape_ok & (expected == actual)
    birth = text.str.slice(6, 8).str.strptime(pl.Date, "%Y%m%d", strict=False)
    date_ok = birth.is_not_null().to_numpy()
    regions = text.str.slice(0, 6)
    region_ok = _mapped_bool(regions, lambda code: _ric_region_known(code))
    valid = checksum_ok & date_ok & region_ok.to_numpy()
    return pl.Series(valid).set(ids.is_null(), None)


@lru_cache(maxsize=10_000)
def _ric_region_known(code: str) -> bool:
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        return False  # stdnum would raise ValueError from int() on other characters
    try:
        ric.get_birth_place(code + "19700101000X")
    except (ValidationError, KeyError, ValueError):  # KeyError: some partial stdnum entries
        return False
    return True


def _mapped_bool(series: pl.Series, fn) -> pl.Series:
    uniques = series.unique()
    lookup = pl.DataFrame({"v": uniques, "ok": [bool(fn(v)) for v in uniques.to_list()]})
    joined = pl.DataFrame({"v": series}).join(lookup, on="v", how="left", maintain_order="left")
    return joined["ok"].fill_null(False)


# stdnum.us.ssn's rules as whole-column expressions: per value, stdnum cost 35 us, a third of
# a Metro 2 load of US accounts (every SSN distinct). tests/furnishing/test_ssn_rules.py
# checks that both agree.
_SSN_PATTERN = r"^([0-9]{3})-?([0-9]{2})-?([0-9]{4})$"
_SSN_BLACKLIST = ["078051120", "457555462", "219099999"]
_ASCII_SPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"  # what str.strip() removes, in ASCII


def ssn_valid_one(value: str) -> bool:
    """stdnum's check, but a blacklisted number stays refused when padded with blanks
    (stdnum compares its unstripped form with the list)."""
    return ssn.is_valid(value) and ssn.compact(value).replace("-", "") not in _SSN_BLACKLIST


def _ssn_valid(ids: pl.Series) -> pl.Series:
    ids = ids.fill_null("")
    # stdnum first folds look-alike Unicode digits and dashes to ASCII; the rare value that
    # is not ASCII keeps going through stdnum itself.
    foreign = ~ids.str.contains(r"^[\x00-\x7f]*$")
    if foreign.any():
        checked = _mapped_bool(ids.filter(foreign), ssn_valid_one)
        return _ssn_valid(ids.zip_with(~foreign, pl.Series([""] * len(ids)))).scatter(
            foreign.arg_true(), checked
        )
    parts = ids.str.strip_chars(_ASCII_SPACE).str.extract_groups(_SSN_PATTERN).struct
    area, group, serial = parts.field("1"), parts.field("2"), parts.field("3")
    ok = (
        area.is_not_null()
        & (area != "000")
        & (area != "666")
        & ~area.str.starts_with("9")
        & (group != "00")
        & (serial != "0000")
        & ~(area + group + serial).is_in(_SSN_BLACKLIST)
    )
    return ok.fill_null(False)


def _national_id_valid(ids: pl.Series, types: pl.Series) -> pl.Series:
    """Checksums for every row, columnar for both resident IDs and SSNs; null for other types.

    Each check runs on its own type's rows only: a furnisher's file is usually all one type,
    and checking every ID both ways cost a third of validating a chunk.
    """
    valid = pl.Series("ok", [None] * len(ids), dtype=pl.Boolean)
    for kind, check in ((NationalIdType.CN_RIC, _ric_valid), (NationalIdType.US_SSN, _ssn_valid)):
        rows = (types == kind).fill_null(False).arg_true()
        if len(rows):
            valid = valid.scatter(rows, check(ids.gather(rows)))
    return valid


def _typed_columns() -> list[pl.Expr]:
    exprs: list[pl.Expr] = []
    for name in DATE_FIELDS:
        exprs.append(pl.col(name).str.strptime(pl.Date, "%Y-%m-%d", strict=False).alias(f"_{name}"))
    for name in INT_FIELDS:
        exprs.append(pl.col(name).str.to_integer(strict=False).alias(f"_{name}"))
    return exprs


# Built once per day, not per chunk: building the expressions took 1-2 ms, as long as
# checking a few hundred records with them.
@lru_cache(maxsize=4)
def _rules(today: date) -> tuple[Rule, ...]:
    rules: list[Rule] = []
    for name in REQUIRED_FIELDS:
        rules.append(Rule(name, "required", pl.col(name).is_null(), pl.lit(f"{name} is required")))
    for name, limit in MAX_LENGTHS.items():
        rules.append(
            Rule(
                name,
                "too_long",
                pl.col(name).str.len_chars() > limit,
                pl.lit(f"{name} is longer than {limit} characters"),
            )
        )
    for name, domain in CODE_DOMAINS.items():
        rules.append(
            Rule(
                name,
                "unknown_code",
                pl.col(name).is_not_null() & ~pl.col(name).is_in(domain),
                _msg(f"{name} ", _quoted(name), f" is not one of: {', '.join(domain)}"),
            )
        )
    for name in DATE_FIELDS:
        rules.append(
            Rule(
                name,
                "invalid_date",
                pl.col(name).is_not_null() & pl.col(f"_{name}").is_null(),
                _msg(f"{name} ", _quoted(name), " is not a real date in YYYY-MM-DD form"),
            )
        )
    for name in INT_FIELDS:
        rules.append(
            Rule(
                name,
                "invalid_number",
                pl.col(name).is_not_null() & pl.col(f"_{name}").is_null(),
                _msg(f"{name} ", _quoted(name), " is not a whole number"),
            )
        )
        rules.append(
            Rule(
                name,
                "out_of_range",
                (pl.col(f"_{name}") < 0) | (pl.col(f"_{name}") >= MAX_AMOUNT),
                _msg(f"{name} ", pl.col(name), f" must be between 0 and {MAX_AMOUNT - 1}"),
            )
        )
    history = pl.col("payment_history")
    rules.append(
        Rule(
            "payment_history",
            "invalid_payment_history",
            history.is_not_null()
            & (
                (history.str.len_chars() != PAYMENT_HISTORY_LENGTH)
                | ~history.str.contains(f"^[{PAYMENT_HISTORY_CHARS}]*$")
            ),
            pl.lit(
                f"payment_history must be {PAYMENT_HISTORY_LENGTH} characters from "
                f"{PAYMENT_HISTORY_CHARS}"
            ),
        )
    )
    rules.append(
        Rule(
            "currency",
            "unknown_code",
            pl.col("currency").is_not_null() & ~pl.col("currency").str.contains("^[A-Z]{3}$"),
            _msg("currency ", _quoted("currency"), " is not an ISO 4217 code"),
        )
    )
    rules.append(
        Rule(
            "national_id",
            "invalid_checksum",
            pl.col("_id_valid") == False,  # noqa: E712 - null means "not checkable here"
            _msg("national_id fails the ", pl.col("national_id_type"), " checksum"),
        )
    )
    id_birth = pl.col("_national_id").str.slice(6, 8).str.strptime(pl.Date, "%Y%m%d", strict=False)
    rules.append(
        Rule(
            "date_of_birth",
            "id_birth_date_mismatch",
            (pl.col("national_id_type") == NationalIdType.CN_RIC)
            & (pl.col("_id_valid") == True)  # noqa: E712
            & (id_birth != pl.col("_date_of_birth")),
            _msg(
                "date_of_birth differs from the birth date in the resident ID (",
                id_birth.dt.strftime("%Y-%m-%d"),
                ")",
            ),
        )
    )
    reporting = pl.col("_reporting_date")
    age_years = reporting.dt.year() - pl.col("_date_of_birth").dt.year()
    rules.append(
        Rule(
            "date_of_birth",
            "implausible_birth_date",
            (age_years < MIN_AGE) | (age_years > MAX_AGE),
            pl.lit(f"date_of_birth gives an age outside {MIN_AGE}-{MAX_AGE} years"),
        )
    )
    rules.append(
        Rule(
            "reporting_date",
            "future_date",
            reporting > pl.lit(today),
            pl.lit("reporting_date is in the future"),
        )
    )
    opened = pl.col("_date_opened")
    rules.append(
        Rule(
            "date_opened",
            "date_order",
            opened > reporting,
            pl.lit("date_opened is after reporting_date"),
        )
    )
    for name in ("date_closed", "date_first_delinquency"):
        value = pl.col(f"_{name}")
        rules.append(
            Rule(
                name,
                "date_order",
                (value < opened) | (value > reporting),
                pl.lit(f"{name} must fall between date_opened and reporting_date"),
            )
        )
    status = pl.col("account_status")
    delinquent = status.is_in([s.value for s in DELINQUENT_STATUSES])
    past_due = pl.col("_amount_past_due")
    rules += [
        Rule(
            "amount_past_due",
            "delinquency_needs_amount",
            delinquent & (past_due == 0),
            _msg("status ", status, " needs amount_past_due above 0"),
        ),
        Rule(
            "date_first_delinquency",
            "delinquency_needs_date",
            delinquent
            & pl.col("_date_first_delinquency").is_null()
            & pl.col("date_first_delinquency").is_null(),
            _msg("status ", status, " needs date_first_delinquency"),
        ),
        Rule(
            "amount_past_due",
            "current_with_amount_past_due",
            (status == AccountStatus.CURRENT) & (past_due > 0),
            pl.lit("a current account cannot have an amount past due"),
        ),
        Rule(
            "date_closed",
            "closed_needs_date",
            (status == AccountStatus.PAID_CLOSED) & pl.col("date_closed").is_null(),
            pl.lit("status paid_closed needs date_closed"),
        ),
        Rule(
            "current_balance",
            "closed_with_balance",
            (status == AccountStatus.PAID_CLOSED) & (pl.col("_current_balance") > 0),
            pl.lit("a paid and closed account must have a zero balance"),
        ),
        Rule(
            "amount_past_due",
            "past_due_exceeds_balance",
            past_due > pl.col("_current_balance"),
            pl.lit("amount_past_due cannot exceed current_balance"),
        ),
    ]
    kind = pl.col("account_type")
    rules += [
        Rule(
            "credit_limit",
            "limit_required",
            kind.is_in([AccountType.REVOLVING, AccountType.LINE_OF_CREDIT])
            & ~(pl.col("_credit_limit") > 0).fill_null(False),
            _msg(kind, " accounts need a credit_limit above 0"),
        ),
        Rule(
            "original_amount",
            "original_amount_required",
            kind.is_in([AccountType.INSTALLMENT, AccountType.MORTGAGE])
            & ~(pl.col("_original_amount") > 0).fill_null(False),
            _msg(kind, " accounts need an original_amount above 0"),
        ),
    ]
    return tuple(rules)


def validate_chunk(
    raw: pl.DataFrame, default_currency: str, today: date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Returns (typed rows that passed every rule, errors as record_no/field/rule/message)."""
    frame = raw.with_columns(
        normalize_national_id(pl.col("national_id")).alias("_national_id"), *_typed_columns()
    )
    frame = frame.with_columns(
        _national_id_valid(frame["_national_id"], frame["national_id_type"]).alias("_id_valid")
    )
    rules = _rules(today)
    violated = [r.violated.fill_null(False) for r in rules]
    frame = frame.with_columns(pl.any_horizontal(violated).alias("_bad"))
    # Messages are built only for the few rows that break a rule, not for every row.
    errors = rule_errors(frame.filter(pl.col("_bad")), rules)
    good = frame.filter(~pl.col("_bad"))
    typed = good.select(
        pl.col("record_no"),
        *[
            (
                pl.col(f"_{f.name}")
                if f.name in DATE_FIELDS or f.name in INT_FIELDS
                else pl.col(f.name)
            ).alias(f.name)
            for f in FIELDS
        ],
    ).with_columns(
        pl.col("national_id").pipe(normalize_national_id),
        pl.col("currency").fill_null(default_currency),
    )
    return typed.cast(TYPED_SCHEMA), errors.sort("record_no", maintain_order=True)
