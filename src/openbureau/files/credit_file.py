"""One subject's credit file: accounts from every furnisher with their monthly history."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from openbureau.files.tables import tradelines
from openbureau.furnishing.schema import (
    DELINQUENT_STATUSES,
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


def load_accounts(session: Session, subject_id: int, as_of: date | None = None) -> list[Account]:
    query = _ACCOUNTS if as_of is None else _ACCOUNTS_AS_OF
    params = {"subject": subject_id, "as_of": as_of}
    return accounts_from_rows(session.connection().execute(query, params).mappings())


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
    return list(accounts.values())


def summarize(accounts: list[Account]) -> dict:
    open_accounts = [a for a in accounts if a.latest["date_closed"] is None]
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
        "total_balance": sum(a.latest["current_balance"] for a in accounts),
        "total_credit_limit": sum(a.latest["credit_limit"] or 0 for a in open_accounts),
        "total_past_due": sum(a.latest["amount_past_due"] for a in accounts),
        "worst_current_status": worst,
        "worst_delinquency_24m_days": int(history_worst) * 30 if history_worst != "0" else 0,
    }
