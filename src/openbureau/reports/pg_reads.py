"""Reports' reads on PostgreSQL, for any number of subjects in one round trip.

The portable path (reports/inquiry.py, any database) reads the score's state, the accounts,
the recent inquiries and the identities of one subject in about eight statements through
SQLAlchemy, each a round trip plus SQLAlchemy's per-statement work. Here the same reads go
out as one psycopg pipeline of six statements over an array of subjects: one report's reads
(make_inquiry) or a whole batch's (reports/pg_batch.py) for the same statements. Both paths
read the same rows in the same order; tests/reports/test_report_paths.py holds them equal.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from psycopg.rows import dict_row
from sqlalchemy import column, select, table
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from openbureau.files.file_lines import file_lines
from openbureau.scoring.service import ScoreInputs

# One row per report asked (`asked`, in the order given, a subject possibly twice), and
# SUBJECT_FAMILY of files/credit_file.py for each subject asked: the subject (`root`) and
# those merged into it. Tables are read with `= ANY(ARRAY(SELECT id FROM family))`, an index
# scan whatever the planner's statistics say, rather than a join the planner may turn into a
# scan of the whole table when it has none yet (a bureau loaded minutes ago).
_FAMILY = """WITH asked AS (
    SELECT root, pos FROM unnest(%(subjects)s::integer[]) WITH ORDINALITY AS a(root, pos)),
roots AS (SELECT DISTINCT root FROM asked),
family AS (SELECT root, root AS id FROM roots
           UNION ALL SELECT merged_into, id FROM subjects
           WHERE merged_into = ANY(ARRAY(SELECT root FROM roots)))
"""
# The file's rows, files/file_lines.py's query itself (own accounts, and associated ones whose
# latest ECOA code is not Z) for the subjects of `family`, compiled once to PostgreSQL's SQL.
_FILE_LINES = file_lines(
    ["subject_id", "loaded_at", "reporting_date"],
    select(column("id")).select_from(table("family")),
).compile(dialect=postgresql.psycopg.dialect(), compile_kwargs={"literal_binds": True})
# scoring/service.py's inputs per report asked: the active model, the file's state
# (state_key) with the inquiries up to the end of the file's latest month
# (until_of(month_end(...))), the stored batch score; plus an id reserved for the inquiry
# being answered, so that the report and its audit event can be built before the inquiry is
# written.
_SCORE_INPUTS = (
    _FAMILY
    + f""", file_lines AS ({_FILE_LINES}),
lines AS (
    SELECT f.root, count(*) AS n, max(fl.loaded_at) AS last_loaded,
           max(fl.reporting_date) AS last_reported
    FROM file_lines fl JOIN family f ON f.id = fl.subject_id GROUP BY f.root)
SELECT nextval(pg_get_serial_sequence('inquiries', 'id')), m.version,
       coalesce(l.n, 0), l.last_loaded, l.last_reported, q.n, q.last_id, s.state_key, s.block
FROM asked a
LEFT JOIN lines l ON l.root = a.root
LEFT JOIN LATERAL (
    SELECT count(*) AS n, max(id) AS last_id FROM inquiries
    WHERE subject_id IN (SELECT id FROM family WHERE family.root = a.root)
      AND created_at <= date_trunc('month', l.last_reported::timestamp)
                        + interval '1 month' - interval '1 microsecond') q ON true
LEFT JOIN score_models m ON m.active
LEFT JOIN subject_scores s ON s.subject_id = a.root AND s.model_version = m.version
ORDER BY a.pos"""
)
_ACCOUNTS = (
    _FAMILY
    + """SELECT f.root, t.member_id, t.account_ref, t.period, t.account_type, t.date_opened,
       t.credit_limit, t.original_amount, t.current_balance, t.amount_past_due,
       t.account_status, t.payment_history, t.date_first_delinquency, t.date_closed,
       t.currency, t.ecoa_code
FROM tradelines t JOIN family f ON f.id = t.subject_id
WHERE t.subject_id = ANY(ARRAY(SELECT id FROM family)) ORDER BY f.root, t.period, t.id"""
)
# credit_file._ASSOCIATIONS: accounts naming the subject as a J1/J2 consumer, with their ECOA
# code per period (Metro 2 only; their tradelines are read afterwards, when there are any).
_ASSOCIATIONS = (
    _FAMILY
    + """SELECT f.root, c.member_id, c.account_ref, c.period, c.ecoa_code
FROM account_consumers c JOIN family f ON f.id = c.subject_id
WHERE c.subject_id = ANY(ARRAY(SELECT id FROM family)) ORDER BY f.root, c.period, c.seq"""
)
# credit_file._SEGMENTS for the subject's own accounts: K1-K4 per period (Metro 2 only).
_SEGMENTS = (
    _FAMILY
    + """SELECT t.root, s.* FROM account_segments s
JOIN (SELECT DISTINCT f.root, t.member_id, t.account_ref
      FROM tradelines t JOIN family f ON f.id = t.subject_id
      WHERE t.subject_id = ANY(ARRAY(SELECT id FROM family))) t USING (member_id, account_ref)
ORDER BY t.root, s.period, s.id"""
)
_RECENT_HARD_INQUIRIES = (
    _FAMILY
    + """SELECT f.root, i.id, i.member_id, i.purpose, i.created_at
FROM inquiries i JOIN family f ON f.id = i.subject_id
WHERE i.subject_id = ANY(ARRAY(SELECT id FROM family)) AND i.hard AND i.created_at >= %(since)s
ORDER BY f.root, i.created_at DESC, i.id DESC"""
)
_IDENTITIES = (
    _FAMILY
    + """SELECT f.root, i.national_id_type, i.national_id_enc, i.name_enc, i.dob_enc,
       i.address_enc, i.phone_enc
FROM subject_identities i JOIN family f ON f.id = i.subject_id
WHERE i.subject_id = ANY(ARRAY(SELECT id FROM family)) ORDER BY f.root, i.id"""
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
    return read_for_reports(session, [subject_id], since)[0]


def read_for_reports(
    session: Session, subject_ids: list[int], since: datetime
) -> list[ReportReads]:
    """Each subject's reads, in the order given; a subject asked twice gets two inquiry ids."""
    raw = session.connection().connection.driver_connection
    # The subjects as an array literal: psycopg dumps a list element by element in Python,
    # once per statement.
    params = {"subjects": "{" + ",".join(map(str, subject_ids)) + "}", "since": since}
    # Results are read after the block, whose closing sync fetches them all: reading inside
    # it would cost a round trip more.
    with raw.pipeline():
        # Once psycopg has prepared these statements, the server would still plan most of them
        # again on every execution (a custom plan for each array of subjects: 2.3 ms for the
        # score inputs against 1.0 with the generic plan, whose index scans suit any array).
        # LOCAL: for the rest of this transaction only, on a pooled connection.
        raw.execute("SET LOCAL plan_cache_mode = force_generic_plan", prepare=False)
        inputs = raw.execute(_SCORE_INPUTS, params)
        accounts = raw.cursor(row_factory=dict_row).execute(_ACCOUNTS, params)
        associations = raw.execute(_ASSOCIATIONS, params)
        segments = raw.cursor(row_factory=dict_row).execute(_SEGMENTS, params)
        recent = raw.execute(_RECENT_HARD_INQUIRIES, params)
        identities = raw.execute(_IDENTITIES, params)
    accounts_of = _by_root_dicts(accounts.fetchall())
    segments_of = _by_root_dicts(segments.fetchall())
    associations_of = _by_root(associations.fetchall())
    recent_of = _by_root(recent.fetchall())
    identities_of = _by_root(identities.fetchall())
    reads = []
    for subject, row in zip(subject_ids, inputs.fetchall(), strict=True):
        inquiry_id, version, lines_n, loaded, reported, asks_n, last_ask, key, block = row
        reads.append(
            ReportReads(
                inquiry_id=inquiry_id,
                score=ScoreInputs(version, lines_n, loaded, reported, asks_n, last_ask, key, block),
                accounts=accounts_of.get(subject, []),
                associations=associations_of.get(subject, []),
                segments=segments_of.get(subject, []),
                recent_hard_inquiries=recent_of.get(subject, []),
                identities=identities_of.get(subject, []),
            )
        )
    return reads


def _by_root(rows: list[tuple]) -> dict[int, list[tuple]]:
    grouped: defaultdict[int, list[tuple]] = defaultdict(list)
    for row in rows:
        grouped[row[0]].append(row[1:])
    return grouped


def _by_root_dicts(rows: list[dict]) -> dict[int, list[dict]]:
    grouped: defaultdict[int, list[dict]] = defaultdict(list)
    for row in rows:
        grouped[row.pop("root")].append(row)
    return grouped
