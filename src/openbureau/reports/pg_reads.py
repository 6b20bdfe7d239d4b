"""A report's reads on PostgreSQL, in one round trip on the driver connection.

The portable path (reports/inquiry.py, any database) reads the score's state, the accounts,
the recent inquiries and the identities in about eight statements through SQLAlchemy, each a
round trip plus SQLAlchemy's per-statement work. Here the same reads go out as one psycopg
pipeline of six statements, which psycopg prepares after a few executions. Both paths read
the same rows in the same order; tests/reports/test_report_paths.py holds them equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from psycopg.rows import dict_row
from sqlalchemy import column, select, table
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from openbureau.files.file_lines import file_lines
from openbureau.scoring.service import ScoreInputs

# SUBJECT_FAMILY of files/credit_file.py: the subject and those merged into it.
_FAMILY = (
    "WITH family AS (SELECT %(subject)s::integer AS id "
    "UNION ALL SELECT id FROM subjects WHERE merged_into = %(subject)s) "
)
# The file's rows, files/file_lines.py's query itself (own accounts, and associated ones whose
# latest ECOA code is not Z) for the subjects of `family`, compiled once to PostgreSQL's SQL.
_FILE_LINES = file_lines(
    ["loaded_at", "reporting_date"], select(column("id")).select_from(table("family"))
).compile(dialect=postgresql.psycopg.dialect(), compile_kwargs={"literal_binds": True})
# scoring/service.py's inputs: the active model, the file's state (state_key) with the
# inquiries up to the end of the file's latest month (until_of(month_end(...))), the stored
# batch score; plus an id reserved for the inquiry being answered, so that the report and its
# audit event can be built before the inquiry is written.
_SCORE_INPUTS = (
    _FAMILY
    + f""", file_lines AS ({_FILE_LINES}),
lines AS (
    SELECT count(*) AS n, max(loaded_at) AS last_loaded, max(reporting_date) AS last_reported
    FROM file_lines)
SELECT nextval(pg_get_serial_sequence('inquiries', 'id')), m.version,
       l.n, l.last_loaded, l.last_reported, a.n, a.last_id, s.state_key, s.block
FROM lines l
LEFT JOIN LATERAL (
    SELECT count(*) AS n, max(id) AS last_id FROM inquiries
    WHERE subject_id IN (SELECT id FROM family)
      AND created_at <= date_trunc('month', l.last_reported::timestamp)
                        + interval '1 month' - interval '1 microsecond') a ON true
LEFT JOIN score_models m ON m.active
LEFT JOIN subject_scores s ON s.subject_id = %(subject)s AND s.model_version = m.version"""
)
_ACCOUNTS = (
    _FAMILY
    + """SELECT member_id, account_ref, period, account_type, date_opened, credit_limit,
       original_amount, current_balance, amount_past_due, account_status, payment_history,
       date_first_delinquency, date_closed, currency, ecoa_code
FROM tradelines WHERE subject_id IN (SELECT id FROM family) ORDER BY period, id"""
)
# credit_file._ASSOCIATIONS: accounts naming the subject as a J1/J2 consumer, with their ECOA
# code per period (Metro 2 only; their tradelines are read afterwards, when there are any).
_ASSOCIATIONS = (
    _FAMILY
    + """SELECT member_id, account_ref, period, ecoa_code FROM account_consumers
WHERE subject_id IN (SELECT id FROM family) ORDER BY period, seq"""
)
# credit_file._SEGMENTS for the subject's own accounts: K1-K4 per period (Metro 2 only).
_SEGMENTS = (
    _FAMILY
    + """SELECT s.* FROM account_segments s
JOIN (SELECT DISTINCT member_id, account_ref FROM tradelines
      WHERE subject_id IN (SELECT id FROM family)) t USING (member_id, account_ref)
ORDER BY s.period, s.id"""
)
_RECENT_HARD_INQUIRIES = (
    _FAMILY
    + """SELECT id, member_id, purpose, created_at FROM inquiries
WHERE subject_id IN (SELECT id FROM family) AND hard AND created_at >= %(since)s
ORDER BY created_at DESC, id DESC"""
)
_IDENTITIES = (
    _FAMILY
    + """SELECT national_id_type, national_id_enc, name_enc, dob_enc, address_enc, phone_enc
FROM subject_identities WHERE subject_id IN (SELECT id FROM family) ORDER BY id"""
)


@dataclass(frozen=True)
class ReportReads:
    inquiry_id: int
    score: ScoreInputs
    accounts: list[dict]  # tradeline rows, oldest month first
    associations: list[tuple]  # (member_id, account_ref, period, ecoa_code), oldest first
    segments: list[dict]  # account_segments rows of the subject's own accounts, oldest first
    recent_hard_inquiries: list[tuple]  # (id, member_id, purpose, created_at), newest first
    identities: list[tuple]  # (national_id_type, *_enc columns) as in _IDENTITIES


def read_for_report(session: Session, subject_id: int, since: datetime) -> ReportReads:
    raw = session.connection().connection.driver_connection
    params = {"subject": subject_id, "since": since}
    # Results are read after the block, whose closing sync fetches them all: reading inside
    # it would cost a round trip more.
    with raw.pipeline():
        inputs = raw.execute(_SCORE_INPUTS, params)
        accounts = raw.cursor(row_factory=dict_row).execute(_ACCOUNTS, params)
        associations = raw.execute(_ASSOCIATIONS, params)
        segments = raw.cursor(row_factory=dict_row).execute(_SEGMENTS, params)
        recent = raw.execute(_RECENT_HARD_INQUIRIES, params)
        identities = raw.execute(_IDENTITIES, params)
    inquiry_id, version, lines_n, loaded, reported, asks_n, last_ask, key, block = inputs.fetchone()
    return ReportReads(
        inquiry_id=inquiry_id,
        score=ScoreInputs(version, lines_n, loaded, reported, asks_n, last_ask, key, block),
        accounts=accounts.fetchall(),
        associations=associations.fetchall(),
        segments=segments.fetchall(),
        recent_hard_inquiries=recent.fetchall(),
        identities=identities.fetchall(),
    )
