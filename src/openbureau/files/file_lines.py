"""The tradeline rows of each subject's credit file, as the score sees it.

A subject's file holds the accounts it is the primary consumer of, and those that name it as
an associated consumer in a Metro 2 J1/J2 segment unless the latest period that named it gave
ECOA code Z (delete the association): the accounts a report lists (credit_file.load_accounts).
An associated account brings every period of it, under the associated subject's id. An
account on which the subject is the primary consumer too is not brought twice.

The same rows feed the score's attributes (scoring/frames.py) and the state that decides
whether a stored score is current (scoring/service.py, scoring/precompute.py; the
PostgreSQL report reads in reports/pg_reads.py compile this same query in), so a joint
account's new month makes its associated consumers' stored scores stale as well.
"""

from __future__ import annotations

from sqlalchemy import and_, exists, func, or_, select, union_all
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from openbureau.files.tables import account_consumers, tradelines
from openbureau.furnishing.schema import ECOA_DELETE


def file_lines(columns: list[str], subjects: Select | None = None):
    """UNION ALL of the tradeline `columns` of own and associated rows, with `subject_id`
    (when among `columns`) the id of the file the row belongs to. `subjects` restricts the
    files to a selectable of subject ids (SUBJECT_FAMILY, say); otherwise every resolved
    subject's."""

    def owned_by(column: ColumnElement) -> ColumnElement:
        return column.is_not(None) if subjects is None else column.in_(subjects)

    def pick(file_subject: ColumnElement) -> list[ColumnElement]:
        return [
            file_subject.label("subject_id") if name == "subject_id" else tradelines.c[name]
            for name in columns
        ]

    consumers = account_consumers
    named = (
        select(
            consumers.c.member_id,
            consumers.c.account_ref,
            consumers.c.subject_id,
            func.max(consumers.c.period).label("last_period"),
        )
        .where(owned_by(consumers.c.subject_id))
        .group_by(consumers.c.member_id, consumers.c.account_ref, consumers.c.subject_id)
        .subquery("named")
    )
    latest = consumers.alias("latest")
    deleted = exists().where(
        latest.c.member_id == named.c.member_id,
        latest.c.account_ref == named.c.account_ref,
        latest.c.subject_id == named.c.subject_id,
        latest.c.period == named.c.last_period,
        latest.c.ecoa_code == ECOA_DELETE,
    )
    own = select(*pick(tradelines.c.subject_id)).where(owned_by(tradelines.c.subject_id))
    associated = (
        select(*pick(named.c.subject_id))
        .join_from(
            tradelines,
            named,
            and_(
                tradelines.c.member_id == named.c.member_id,
                tradelines.c.account_ref == named.c.account_ref,
            ),
        )
        .where(
            ~deleted,
            or_(tradelines.c.subject_id.is_(None), tradelines.c.subject_id != named.c.subject_id),
        )
    )
    return union_all(own, associated)
