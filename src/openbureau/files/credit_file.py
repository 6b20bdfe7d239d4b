"""One subject's credit file: accounts from every furnisher with their monthly history."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import bindparam, or_, select, tuple_
from sqlalchemy.orm import Session

from openbureau.files.tables import account_consumers, account_segments, tradelines
from openbureau.furnishing.schema import (
    CREDITOR_CLASSIFICATIONS,
    DELINQUENT_STATUSES,
    ECOA_DELETE,
    ECOA_ROLES,
    PAYMENT_HISTORY_LENGTH,
    STATUS_SEVERITY,
    AccountStatus,
)
from openbureau.identity.tables import subjects

# The history character a month's own account status stands for (Metro 2 profile codes).
STATUS_HISTORY_CHAR = {
    AccountStatus.CURRENT: "0",
    AccountStatus.PAID_CLOSED: "0",
    AccountStatus.TRANSFERRED: "D",
    AccountStatus.PAST_DUE_30: "1",
    AccountStatus.PAST_DUE_60: "2",
    AccountStatus.PAST_DUE_90: "3",
    AccountStatus.PAST_DUE_120: "4",
    AccountStatus.PAST_DUE_150: "5",
    AccountStatus.PAST_DUE_180: "6",
    AccountStatus.COLLECTION: "G",
    AccountStatus.CHARGE_OFF: "L",
}


def shift_period(period: str, months: int) -> str:
    year, month = int(period[:4]), int(period[5:7])
    index = year * 12 + (month - 1) - months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@functools.lru_cache(maxsize=1024)
def _months_back(period: str) -> tuple[str, ...]:
    # Every report prints 24 months per account, and accounts share a few latest months.
    return tuple(shift_period(period, i) for i in range(PAYMENT_HISTORY_LENGTH))


@dataclass
class Account:
    member_id: int
    account_ref: str
    latest: dict
    statuses_by_period: dict[str, str] = field(default_factory=dict)
    # This subject's ECOA code on the account: the primary consumer's as furnished, or the
    # code of the J1/J2 segment that names the subject (associated = True).
    ecoa_code: str | None = None
    associated: bool = False
    # Latest K1-K4 data (Metro 2): original_creditor, purchased_from / sold_to, ...
    segments: dict = field(default_factory=dict)

    @property
    def role(self) -> str | None:
        return ECOA_ROLES.get(self.ecoa_code or "")

    @property
    def sold(self) -> bool:
        """Sold to another company (K2): the debt is reported by its buyer now."""
        return "sold_to" in self.segments

    def history(self) -> list[dict]:
        """24 months, newest first: stored monthly statuses, else the furnished profile."""
        period = self.latest["period"]
        profile = self.latest["payment_history"]
        stored = self.statuses_by_period
        months = [{"period": period, "code": STATUS_HISTORY_CHAR[self.latest["account_status"]]}]
        back = _months_back(period)
        for i in range(1, PAYMENT_HISTORY_LENGTH):
            month = back[i]
            status = stored.get(month)
            months.append(
                {"period": month, "code": STATUS_HISTORY_CHAR[status] if status else profile[i - 1]}
            )
        return months


# Statements are built once: on the inquiry path, building them per call costs more than
# running them. Bind `subject` when executing.
SUBJECT_FAMILY = select(subjects.c.id).where(
    or_(subjects.c.id == bindparam("subject"), subjects.c.merged_into == bindparam("subject"))
)
# Oldest month first, so each account's last row is its latest; the id breaks ties between
# accounts reporting the same month, so accounts always come out in the same order.
ACCOUNT_ORDER = (tradelines.c.period, tradelines.c.id)
_ACCOUNTS = (
    select(tradelines).where(tradelines.c.subject_id.in_(SUBJECT_FAMILY)).order_by(*ACCOUNT_ORDER)
)
_ACCOUNTS_AS_OF = _ACCOUNTS.where(tradelines.c.reporting_date <= bindparam("as_of"))
# Accounts on which the subject is an associated consumer (J1/J2), with the ECOA code of each
# period that named them.
_ASSOCIATIONS = (
    select(
        account_consumers.c.member_id,
        account_consumers.c.account_ref,
        account_consumers.c.period,
        account_consumers.c.ecoa_code,
    )
    .where(account_consumers.c.subject_id.in_(SUBJECT_FAMILY))
    .order_by(account_consumers.c.period, account_consumers.c.seq)
)
_ACCOUNT_KEY = tuple_(tradelines.c.member_id, tradelines.c.account_ref)
_ASSOCIATED = (
    select(tradelines)
    .where(_ACCOUNT_KEY.in_(bindparam("keys", expanding=True)))
    .order_by(tradelines.c.period)
)
_SEGMENTS = (
    select(account_segments)
    .where(
        tuple_(account_segments.c.member_id, account_segments.c.account_ref).in_(
            bindparam("keys", expanding=True)
        )
    )
    .order_by(account_segments.c.period)
)


def load_accounts(session: Session, subject_id: int, as_of: date | None = None) -> list[Account]:
    """The subject's accounts: as primary consumer, and as associated consumer (J1/J2).

    An account whose latest ECOA code for the subject is Z (delete) is left out.
    """
    query = _ACCOUNTS if as_of is None else _ACCOUNTS_AS_OF
    params = {"subject": subject_id, "as_of": as_of}
    connection = session.connection()
    primary = accounts_from_rows(connection.execute(query, params).mappings())
    associations = connection.execute(_ASSOCIATIONS, {"subject": subject_id}).all()
    return with_associations(connection, primary, associations, as_of)


def accounts_from_rows(rows: Iterable[Mapping]) -> list[Account]:
    """Accounts from a file's tradeline rows in ACCOUNT_ORDER (at least the columns a report
    shows)."""
    accounts: dict[tuple[int, str], Account] = {}
    for row in rows:
        latest = dict(row)
        key = (latest["member_id"], latest["account_ref"])
        account = accounts.get(key)
        if account is None:
            account = accounts[key] = Account(key[0], key[1], latest)
        account.latest = latest
        account.statuses_by_period[latest["period"]] = latest["account_status"]
    for account in accounts.values():
        account.ecoa_code = account.latest.get("ecoa_code")
    return list(accounts.values())


def with_associations(
    connection,
    primary: list[Account],
    associations: Iterable[Sequence],
    as_of: date | None = None,
    primary_segments: Iterable[Mapping] | None = None,
) -> list[Account]:
    """The subject's own accounts plus those naming it as associated consumer (rows as
    _ASSOCIATIONS selects them), without accounts whose latest ECOA code for it is Z, with
    K1-K4 folded in. `primary_segments`, when the caller read them already, are the
    account_segments rows of the subject's own accounts, oldest period first."""
    accounts = {(a.member_id, a.account_ref): a for a in primary}
    own = set(accounts)
    _add_associated(connection, accounts, associations, as_of)
    kept = [a for a in accounts.values() if a.ecoa_code != ECOA_DELETE]
    wanted = [(a.member_id, a.account_ref) for a in kept if a.ecoa_code]
    if primary_segments is not None:
        _fold_segments(accounts, primary_segments, as_of)
        wanted = [key for key in wanted if key not in own]
    if wanted:  # only Metro 2 furnishes an ECOA code, and segments
        rows = connection.execute(_SEGMENTS, {"keys": wanted}).mappings()
        _fold_segments(accounts, rows, as_of)
    return kept


def _add_associated(
    connection,
    accounts: dict[tuple[int, str], Account],
    associations: Iterable[Sequence],
    as_of: date | None,
) -> None:
    last_period = as_of.strftime("%Y-%m") if as_of else None
    codes: dict[tuple[int, str], str] = {}
    for member_id, account_ref, period, code in associations:
        if last_period is None or period <= last_period:
            codes[(member_id, account_ref)] = code  # ordered by period: the latest stays
    wanted = [key for key in codes if key not in accounts]  # primary consumer wins
    if not wanted:
        return
    for row in connection.execute(_ASSOCIATED, {"keys": wanted}).mappings():
        if as_of is not None and row["reporting_date"] > as_of:
            continue
        key = (row["member_id"], row["account_ref"])
        account = accounts.get(key)
        if account is None:
            account = accounts[key] = Account(
                row["member_id"], row["account_ref"], dict(row), associated=True
            )
            account.ecoa_code = codes[key]
        account.latest = dict(row)
        account.statuses_by_period[row["period"]] = row["account_status"]


def _fold_segments(
    accounts: dict[tuple[int, str], Account], rows: Iterable[Mapping], as_of: date | None
) -> None:
    last_period = as_of.strftime("%Y-%m") if as_of else None
    for row in rows:
        account = accounts.get((row["member_id"], row["account_ref"]))
        if account is None or (last_period is not None and row["period"] > last_period):
            continue
        _apply_segments(account.segments, row)


def _apply_segments(segments: dict, row) -> None:
    """Folds one period's K1-K4 into the account's latest view (rows come oldest first)."""
    if row["original_creditor_name"]:
        code = row["creditor_classification"]
        segments["original_creditor"] = {
            "name": row["original_creditor_name"],
            "classification": CREDITOR_CLASSIFICATIONS.get(code, str(code)),
        }
    indicator = row["purchased_indicator"]
    if indicator is not None:
        segments.pop("purchased_from", None)
        segments.pop("sold_to", None)
        if indicator in (1, 2):  # 9 removes an earlier K2
            side = "purchased_from" if indicator == 1 else "sold_to"
            segments[side] = row["purchased_name"]
    if row["agency_identifier"]:
        segments["mortgage"] = {
            "agency": {1: "fannie_mae", 2: "freddie_mac"}.get(row["agency_identifier"]),
            "agency_account_number": row["agency_account_number"],
            "mortgage_identification_number": row["mortgage_identification_number"],
        }
    kind = row["specialized_payment_indicator"]
    if kind is not None:
        segments["specialized_payment"] = {
            "kind": {1: "balloon", 2: "deferred"}.get(kind, str(kind)),
            "deferred_payment_start_date": _iso(row["deferred_payment_start_date"]),
            "balloon_payment_due_date": _iso(row["balloon_payment_due_date"]),
            "balloon_payment_amount": row["balloon_payment_amount"],
        }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def summarize(accounts: list[Account]) -> dict:
    # A sold account stays on file for its history, but its debt is the buyer's now, and
    # the buyer's own tradeline carries it: counting both would count the debt twice.
    owed = [a for a in accounts if not a.sold]
    open_accounts = [a for a in owed if a.latest["date_closed"] is None]
    worst = max(
        (a.latest["account_status"] for a in accounts),
        key=lambda s: STATUS_SEVERITY[s],
        default=None,
    )
    history_worst = (
        max(
            (max((c["code"] for c in a.history() if c["code"] in "123456"), default="0"))
            for a in accounts
        )
        if accounts
        else "0"
    )
    return {
        "accounts_total": len(accounts),
        "open_accounts": len(open_accounts),
        "delinquent_accounts": sum(
            1 for a in accounts if a.latest["account_status"] in DELINQUENT_STATUSES
        ),
        "total_balance": sum(a.latest["current_balance"] for a in owed),
        "total_credit_limit": sum(a.latest["credit_limit"] or 0 for a in open_accounts),
        "total_past_due": sum(a.latest["amount_past_due"] for a in owed),
        "worst_current_status": worst,
        "worst_delinquency_24m_days": int(history_worst) * 30 if history_worst != "0" else 0,
    }
