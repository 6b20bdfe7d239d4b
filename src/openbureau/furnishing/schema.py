"""The native furnishing schema: one record is one account for one reporting period.

This module is the single source of truth for field names, types and code domains.
Parsers, validators, the Metro 2 mapping and docs/furnishing.md all follow it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import polars as pl


class AccountType(StrEnum):
    REVOLVING = "revolving"
    INSTALLMENT = "installment"
    MORTGAGE = "mortgage"
    OPEN = "open"
    LINE_OF_CREDIT = "line_of_credit"


class AccountStatus(StrEnum):
    CURRENT = "current"
    PAST_DUE_30 = "past_due_30"
    PAST_DUE_60 = "past_due_60"
    PAST_DUE_90 = "past_due_90"
    PAST_DUE_120 = "past_due_120"
    PAST_DUE_150 = "past_due_150"
    PAST_DUE_180 = "past_due_180"
    COLLECTION = "collection"
    CHARGE_OFF = "charge_off"
    PAID_CLOSED = "paid_closed"
    TRANSFERRED = "transferred"


class NationalIdType(StrEnum):
    CN_RIC = "cn_ric"  # Chinese resident identity card number (18 characters)
    US_SSN = "us_ssn"  # US social security number (9 digits)


DELINQUENT_STATUSES = frozenset(
    {
        AccountStatus.PAST_DUE_30,
        AccountStatus.PAST_DUE_60,
        AccountStatus.PAST_DUE_90,
        AccountStatus.PAST_DUE_120,
        AccountStatus.PAST_DUE_150,
        AccountStatus.PAST_DUE_180,
        AccountStatus.COLLECTION,
        AccountStatus.CHARGE_OFF,
    }
)

# Severity of each status, 0 = best. Used for "worst delinquency" summaries.
STATUS_SEVERITY: dict[str, int] = {
    AccountStatus.CURRENT: 0,
    AccountStatus.PAID_CLOSED: 0,
    AccountStatus.TRANSFERRED: 0,
    AccountStatus.PAST_DUE_30: 1,
    AccountStatus.PAST_DUE_60: 2,
    AccountStatus.PAST_DUE_90: 3,
    AccountStatus.PAST_DUE_120: 4,
    AccountStatus.PAST_DUE_150: 5,
    AccountStatus.PAST_DUE_180: 6,
    AccountStatus.COLLECTION: 7,
    AccountStatus.CHARGE_OFF: 8,
}

# What an ECOA code (Metro 2 base, J1, J2) says about a consumer's part in an account. Codes
# 3 (authorized user), 4 (joint, obsolete), 7 and T come from the CRRG, not our fact sheet.
ECOA_ROLES: dict[str, str] = {
    "1": "individual",
    "2": "joint",
    "3": "authorized_user",
    "4": "joint",
    "5": "co_maker_or_guarantor",
    "7": "maker",
    "T": "terminated",
    "W": "business",
    "X": "deceased",
    "Z": "deleted",
}
# Z removes the consumer from the account: it leaves that consumer's credit file.
ECOA_DELETE = "Z"

# K1 creditor classification (Metro 2 fact sheet §6.13).
CREDITOR_CLASSIFICATIONS: dict[int, str] = {
    1: "retail",
    2: "medical_health_care",
    3: "oil_company",
    4: "government",
    5: "personal_services",
    6: "insurance",
    7: "educational",
    8: "banking",
    9: "rental_leasing",
    10: "utilities",
    11: "cable_cellular",
    12: "financial",
    13: "credit_union",
    14: "automotive",
    15: "check_guarantee",
}

# Metro 2 payment history profile characters (fact sheet §6). Position 1 is the month
# before the reporting month; 24 positions in all, most recent first.
PAYMENT_HISTORY_CHARS = "0123456BDEGHJKL"
PAYMENT_HISTORY_LENGTH = 24


@dataclass(frozen=True)
class Field:
    name: str
    dtype: type[pl.DataType] | pl.DataType
    required: bool
    description: str


IDENTITY_FIELDS: tuple[Field, ...] = (
    Field("full_name", pl.Utf8, True, "Consumer's full name, Latin or Chinese script"),
    Field("national_id_type", pl.Utf8, True, "cn_ric or us_ssn"),
    Field("national_id", pl.Utf8, True, "National ID number; checksum validated"),
    Field("date_of_birth", pl.Date, True, "YYYY-MM-DD"),
    Field("address", pl.Utf8, False, "Postal address, one line"),
    Field("phone", pl.Utf8, False, "Phone number, E.164 preferred"),
)

ACCOUNT_FIELDS: tuple[Field, ...] = (
    Field("reporting_date", pl.Date, True, "Date the data is as of; its month is the period"),
    Field("account_ref", pl.Utf8, True, "Furnisher's own account reference, 1-64 characters"),
    Field("account_type", pl.Utf8, True, "revolving, installment, mortgage, open, line_of_credit"),
    Field("date_opened", pl.Date, True, "YYYY-MM-DD"),
    Field("credit_limit", pl.Int64, False, "Whole currency units; revolving and lines"),
    Field("original_amount", pl.Int64, False, "Whole currency units; installment, mortgage"),
    Field("current_balance", pl.Int64, True, "Whole currency units, >= 0"),
    Field("amount_past_due", pl.Int64, True, "Whole currency units, >= 0"),
    Field("account_status", pl.Utf8, True, "See AccountStatus"),
    Field("payment_history", pl.Utf8, True, "24 Metro 2 profile characters, most recent first"),
    Field("date_first_delinquency", pl.Date, False, "Required for delinquent statuses"),
    Field("date_closed", pl.Date, False, "Required for paid_closed"),
    Field("currency", pl.Utf8, False, "ISO 4217 code; defaults to the deployment's currency"),
)

FIELDS: tuple[Field, ...] = IDENTITY_FIELDS + ACCOUNT_FIELDS
FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS)
REQUIRED_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.required)

# A record whose delete_request is set withdraws its account (every period the member
# reported) instead of reporting a month: Metro 2's account statuses DA and DF. Only its
# account_ref is read.
DELETE_REQUEST = "delete_request"
DELETE_REQUESTS: dict[str, str] = {"reported_in_error": "DA", "fraud": "DF"}

# The typed, validated frame handed from furnishing to loading has these columns,
# plus `record_no` (1-based record number in the submitted file).
TYPED_SCHEMA: dict[str, pl.DataType] = {"record_no": pl.Int64()} | {
    f.name: (f.dtype() if isinstance(f.dtype, type) else f.dtype) for f in FIELDS
}
