"""Mapping validated Metro 2 chunks onto the bureau's native furnishing schema.

Account status mapping (Metro 2 status [+ payment rating] → native ``AccountStatus``):

=============  ==============================================================
Metro 2        native
=============  ==============================================================
11             current
71 / 78 / 80   past_due_30 / past_due_60 / past_due_90
82 / 83 / 84   past_due_120 / past_due_150 / past_due_180
93             collection
96, 97         charge_off (96 = merchandise repossessed, balance may be owing)
05             transferred
13, 61-65      paid_closed (whatever the rating: the rating only records how
               delinquent the account was when it was paid or closed)
88, 89, 94, 95 from the payment rating: 0 current, 1-6 past_due_30..past_due_180,
               G collection, L charge_off
DA, DF         not mapped: delete requests are returned in ``deletions`` (the
               submission path applies them: files/deletions.py)
=============  ==============================================================

Account type: from the portfolio type (R revolving, I installment, M mortgage, O open,
C line_of_credit, L lease → installment).

Identity: the base's SSN and phone, unless the record carries the openbureau extension segment
OB, whose national ID (type and number), E.164 phone and currency then take their place.

Payment history: the 24-character profile; the two Metro 2 characters the native schema
does not know are translated: blank → ``D`` (no history reported for the month) and
``Z`` (too new to rate) → ``B`` (no history before this month).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from ..schema import TYPED_SCHEMA, AccountStatus, AccountType, NationalIdType
from .reader import Chunk

STATUS_MAP: dict[str, str] = {
    "11": AccountStatus.CURRENT, "71": AccountStatus.PAST_DUE_30,
    "78": AccountStatus.PAST_DUE_60, "80": AccountStatus.PAST_DUE_90,
    "82": AccountStatus.PAST_DUE_120, "83": AccountStatus.PAST_DUE_150,
    "84": AccountStatus.PAST_DUE_180, "93": AccountStatus.COLLECTION,
    "96": AccountStatus.CHARGE_OFF, "97": AccountStatus.CHARGE_OFF,
    "05": AccountStatus.TRANSFERRED, "13": AccountStatus.PAID_CLOSED,
    "61": AccountStatus.PAID_CLOSED, "62": AccountStatus.PAID_CLOSED,
    "63": AccountStatus.PAID_CLOSED, "64": AccountStatus.PAID_CLOSED,
    "65": AccountStatus.PAID_CLOSED,
}
RATING_MAP: dict[str, str] = {
    "0": AccountStatus.CURRENT, "1": AccountStatus.PAST_DUE_30, "2": AccountStatus.PAST_DUE_60,
    "3": AccountStatus.PAST_DUE_90, "4": AccountStatus.PAST_DUE_120,
    "5": AccountStatus.PAST_DUE_150, "6": AccountStatus.PAST_DUE_180,
    "G": AccountStatus.COLLECTION, "L": AccountStatus.CHARGE_OFF,
}
RATED_STATUSES = ("88", "89", "94", "95")
PORTFOLIO_MAP: dict[str, str] = {
    "R": AccountType.REVOLVING, "I": AccountType.INSTALLMENT, "M": AccountType.MORTGAGE,
    "O": AccountType.OPEN, "C": AccountType.LINE_OF_CREDIT, "L": AccountType.INSTALLMENT,
}
GENERATION_SUFFIX = {"J": "JR", "S": "SR", "2": "II", "3": "III", "4": "IV", "5": "V",
                     "6": "VI", "7": "VII", "8": "VIII", "9": "IX"}
DELETE_STATUSES = ("DA", "DF")

_c = pl.col


@dataclass
class NativeResult:
    accounts: pl.DataFrame  # exactly TYPED_SCHEMA
    side: dict[str, pl.DataFrame] = field(default_factory=dict)
    deletions: pl.DataFrame | None = None  # DA/DF records: record_no, account_ref, status


def _nz(e: pl.Expr) -> pl.Expr:
    """Blank string → null."""
    return pl.when(e.fill_null("") == "").then(None).otherwise(e)


def _name(prefix: str = "") -> pl.Expr:
    parts = [_c(f"{prefix}first_name"), _c(f"{prefix}middle_name"), _c(f"{prefix}surname"),
             _c(f"{prefix}generation_code").replace_strict(GENERATION_SUFFIX, default="")]
    return _nz(pl.concat_str([_nz(p) for p in parts], separator=" ", ignore_nulls=True))


def _address(line1: str, line2: str, city: str, state: str, zip_: str) -> pl.Expr:
    z = _c(zip_)
    zip_fmt = pl.when(z.str.len_chars() == 9).then(
        pl.concat_str([z.str.slice(0, 5), pl.lit("-"), z.str.slice(5, 4)])).otherwise(z)
    state_zip = pl.concat_str([_nz(_c(state)), _nz(zip_fmt)], separator=" ", ignore_nulls=True)
    return _nz(pl.concat_str([_nz(_c(line1)), _nz(_c(line2)), _nz(_c(city)), _nz(state_zip)],
                             separator=", ", ignore_nulls=True))


def _ssn(col: str) -> pl.Expr:
    v = _c(col)
    return pl.when((v > 0) & (v < 999999999)).then(v.cast(pl.Utf8).str.zfill(9)).otherwise(None)


def _phone(col: str) -> pl.Expr:
    v = _c(col)
    return pl.when(v >= 1_000_000_000).then(
        pl.concat_str([pl.lit("+1"), v.cast(pl.Utf8)])).otherwise(None)


def _status() -> pl.Expr:
    st, pr = _c("account_status"), _c("payment_rating")
    return (pl.when(st.is_in(RATED_STATUSES)).then(pr.replace_strict(RATING_MAP, default=None))
            .otherwise(st.replace_strict(STATUS_MAP, default=None)))


def _with_extension(base: pl.DataFrame, extension: pl.DataFrame | None) -> pl.DataFrame:
    """The base records with the openbureau OB segment's fields (null where there is none)."""
    if extension is None or extension.height == 0:
        return base.with_columns(
            pl.lit(None, pl.Utf8).alias(name)
            for name in ("ob_national_id_type", "ob_national_id", "ob_phone", "ob_currency")
        )
    return base.join(
        extension.select(
            "record_no",
            ob_national_id_type=_nz(_c("national_id_type")).str.to_lowercase(),
            ob_national_id=_nz(_c("national_id")),
            ob_phone=_nz(_c("telephone_e164")),
            ob_currency=_nz(_c("currency")),
        ),
        on="record_no",
        how="left",
    )


def map_accounts(base: pl.DataFrame, extension: pl.DataFrame | None = None) -> pl.DataFrame:
    """Base records as native accounts; an OB extension segment supplies the national ID,
    phone and currency that the base's US fields cannot hold."""
    port = _c("portfolio_type")
    limit_types = port.is_in(["R", "C", "O"])
    amount_types = port.is_in(["I", "M", "L"])
    base = _with_extension(base.filter(~_c("account_status").is_in(DELETE_STATUSES)), extension)
    ssn_type = pl.when(_ssn("social_security_number").is_not_null()).then(
        pl.lit(NationalIdType.US_SSN.value))
    out = base.select(
        record_no=_c("record_no"),
        full_name=_name(),
        national_id_type=pl.coalesce(_c("ob_national_id_type"), ssn_type),
        national_id=pl.when(_c("ob_national_id").is_not_null()).then(_c("ob_national_id"))
        .otherwise(_ssn("social_security_number")),
        date_of_birth=_c("date_birth"),
        address=_address("first_line_address", "second_line_address", "city", "state",
                         "zip_code"),
        phone=pl.coalesce(_c("ob_phone"), _phone("telephone_number")),
        reporting_date=_c("date_account_information"),
        account_ref=_nz(_c("consumer_account_number")),
        account_type=port.replace_strict(PORTFOLIO_MAP, default=None),
        date_opened=_c("date_opened"),
        credit_limit=pl.when(limit_types).then(_c("credit_limit")).otherwise(None),
        original_amount=pl.when(amount_types).then(_c("highest_credit")).otherwise(None),
        current_balance=_c("current_balance"),
        amount_past_due=_c("amount_past_due"),
        account_status=_status(),
        payment_history=_c("payment_history_profile").str.replace_all(" ", "D", literal=True)
        .str.replace_all("Z", "B", literal=True),
        date_first_delinquency=_c("date_first_delinquency"),
        date_closed=_c("date_closed"),
        currency=pl.coalesce(_c("ob_currency"), pl.lit("USD")),
    )
    return out.select([pl.col(k).cast(v) for k, v in TYPED_SCHEMA.items()])


def map_side(segments: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    side: dict[str, pl.DataFrame] = {}
    assoc = []
    for name in ("J1", "J2"):
        df = segments.get(name)
        if df is None or df.height == 0:
            continue
        j2 = name == "J2"
        assoc.append(df.select(
            record_no=_c("record_no"), seq=_c("seq"), segment=pl.lit(name),
            ecoa_code=_c("ecoa_code"), full_name=_name(),
            national_id_type=pl.when(_ssn("social_security_number").is_not_null())
            .then(pl.lit(NationalIdType.US_SSN.value)).otherwise(None),
            national_id=_ssn("social_security_number"), date_of_birth=_c("date_birth"),
            phone=_phone("telephone_number"),
            address=_address("first_line_address", "second_line_address", "city", "state",
                             "zip_code") if j2 else pl.lit(None, pl.Utf8),
            consumer_information_indicator=_nz(_c("consumer_information_indicator")),
        ))
    if assoc:
        side["associated_consumers"] = pl.concat(assoc).sort("record_no", "seq")
    simple = {
        "K1": ("original_creditor", ["original_creditor_name", "creditor_classification"]),
        "K2": ("purchased_sold", ["purchased_indicator", "purchased_name"]),
        "K3": ("mortgage", ["agency_identifier", "account_number",
                            "mortgage_identification_number"]),
        "K4": ("specialized_payment", ["specialized_payment_indicator",
                                       "deferred_payment_start_date", "balloon_payment_due_date",
                                       "balloon_payment_amount"]),
        "L1": ("account_number_change", ["change_indicator", "new_consumer_account_number",
                                         "new_identification_number"]),
        "N1": ("employment", ["employer_name", "first_line_employer_address",
                              "second_line_employer_address", "employer_city", "employer_state",
                              "zip_code", "occupation"]),
    }
    for seg, (key, cols) in simple.items():
        df = segments.get(seg)
        if df is not None and df.height:
            side[key] = df.select("record_no", *cols)
    return side


def to_native(chunk: Chunk, *, accepted_only: bool = True) -> NativeResult:
    """Map a validated chunk to the native schema; rejected records are dropped first."""
    c = chunk.accepted() if accepted_only else chunk
    deletions = c.base.filter(_c("account_status").is_in(DELETE_STATUSES)).select(
        "record_no", account_ref=_c("consumer_account_number"), status=_c("account_status"))
    side = map_side(c.segments)
    side["base_ecoa"] = c.base.filter(~_c("account_status").is_in(DELETE_STATUSES)).select(
        "record_no", "ecoa_code")
    if "account_number_change" in side:  # L1: put the old numbers next to the new ones
        old = c.base.select("record_no", old_consumer_account_number=_c("consumer_account_number"),
                            old_identification_number=_c("identification_number"))
        side["account_number_change"] = side["account_number_change"].join(
            old, on="record_no", how="left").select(
            "record_no", "change_indicator", "old_consumer_account_number",
            "new_consumer_account_number", "old_identification_number",
            "new_identification_number")
    return NativeResult(map_accounts(c.base, c.segments.get("OB")), side, deletions)
