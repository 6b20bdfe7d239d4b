"""Probabilistic matching against the bureau's stored identities.

The exact stage (`resolve.py`) settles every record whose national ID the bureau already
knows. What it cannot settle, a national ID new to the bureau or an inquiry without one, is
matched here: the record's blocking keys (keyed hashes, see `blocking.py`) find candidate
subjects in `identity_blocking_keys`, the candidates' identities are decrypted and normalised,
and the stored Fellegi-Sunter model scores each pair. Splink is never imported on this path.

Candidates are kept small on purpose: keys shared by more than `identity_max_block_size`
subjects (very common names, family addresses) propose nobody, and a subject must share at
least `identity_min_shared_keys` keys with the record to be scored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl
from sqlalchemy import text
from sqlalchemy.orm import Session

from openbureau.db import copy_into, in_values, is_postgres, list_param, pg_array_literal
from openbureau.governance.crypto import BureauKeys
from openbureau.identity.blocking import blocking_keys_frame
from openbureau.identity.model import IdentityModel, Score
from openbureau.identity.normalize import normalize_record, normalize_records
from openbureau.identity.tables import subject_identities
from openbureau.settings import Settings

ID_COUNTRY = {"cn_ric": "CN", "us_ssn": "US"}
PHONE_REGION = {"CN": "CN", "US": "US", "EU-DE": "DE"}
# Postcodes ride at the end of the one-line address: 6 digits in China, 5 in the US and DE.
_POSTCODE = r"(\d{5,6})\D*$"
# Up to this many rows, normalising one dict at a time beats building polars frames.
_FEW = 64

# What an identity frame holds before normalisation, for furnished records and inquiries.
IDENTITY_SCHEMA = {
    "record_no": pl.Int64,
    "full_name": pl.Utf8,
    "national_id_type": pl.Utf8,
    "national_id": pl.Utf8,
    "date_of_birth": pl.Utf8,
    "address": pl.Utf8,
    "phone": pl.Utf8,
}


def phone_region(settings: Settings) -> str:
    """Where a phone number without a country code is assumed to be: the jurisdiction's."""
    return PHONE_REGION.get(settings.jurisdiction, "US")


@dataclass(frozen=True)
class MatchSettings:
    max_block_size: int
    min_shared_keys: int
    phone_region: str

    @classmethod
    def from_settings(cls, settings: Settings) -> MatchSettings:
        return cls(
            settings.identity_max_block_size,
            settings.identity_min_shared_keys,
            phone_region(settings),
        )


@dataclass(frozen=True)
class Candidate:
    subject_id: int
    score: Score
    identity: dict


def normalized(frame: pl.DataFrame, region: str) -> pl.DataFrame:
    """Normalised identities (record_id = record_no) of a frame shaped like IDENTITY_SCHEMA."""
    address = pl.col("address").cast(pl.Utf8)
    raw = frame.select(
        pl.col("record_no").alias("record_id"),
        pl.col("full_name").cast(pl.Utf8),
        pl.col("date_of_birth").cast(pl.Utf8).alias("dob"),
        pl.col("national_id").cast(pl.Utf8),
        pl.col("national_id_type")
        .replace_strict(ID_COUNTRY, default=None, return_dtype=pl.Utf8)
        .alias("id_country"),
        address,
        address.str.extract(_POSTCODE, 1).alias("postcode"),
        pl.col("phone").cast(pl.Utf8),
    )
    return normalize_records(raw, default_region=region)


def raw_identity(
    full_name: str | None,
    national_id_type: str | None,
    national_id: str | None,
    date_of_birth: str | None,
    address: str | None,
    phone: str | None,
) -> dict:
    """One identity in the library's input shape (the one-record twin of `normalized`)."""
    postcode = re.search(_POSTCODE, address) if address else None
    return {
        "full_name": full_name,
        "dob": date_of_birth,
        "national_id": national_id,
        "id_country": ID_COUNTRY.get(national_id_type or ""),
        "address": address,
        "postcode": postcode.group(1) if postcode else None,
        "phone": phone,
    }


def hashed_blocking_keys(norm: pl.DataFrame, keys: BureauKeys) -> pl.DataFrame:
    """record_id, key_bidx: every blocking key of every record, as a keyed hash."""
    long = blocking_keys_frame(norm, "record_id")
    distinct = long["key"].unique()
    hashed = pl.DataFrame(
        {"key": distinct, "key_bidx": keys.blocking_index_many(distinct.to_list())},
        schema={"key": pl.Utf8, "key_bidx": pl.Int64},
    )
    return long.join(hashed, on="key").select("record_id", "key_bidx")


def store_blocking_keys(
    session: Session, rows: pl.DataFrame, *, new_subjects: bool = False
) -> None:
    """Adds (key_bidx, subject_id) rows; pairs already stored are left alone.

    `new_subjects` says no subject in `rows` has a key stored yet (each was created by this
    load, or every key was just removed): the rows then go in without a conflict check (on
    PostgreSQL by COPY), which saves about 40% of storing a first load's keys.
    """
    rows = rows.select("key_bidx", pl.col("subject_id").cast(pl.Int64)).unique()
    if rows.is_empty():
        return
    connection = session.connection()
    if is_postgres(connection.engine):
        if new_subjects:
            copy_into(connection, "identity_blocking_keys", rows.sort("key_bidx"))
            return
        statement = (
            "INSERT INTO identity_blocking_keys (key_bidx, subject_id) "
            "SELECT * FROM unnest(CAST(:keys AS bigint[]), CAST(:subjects AS integer[])) "
            "ON CONFLICT DO NOTHING"
        )
        connection.execute(
            text(statement),
            {
                "keys": pg_array_literal(rows["key_bidx"]),
                "subjects": pg_array_literal(rows["subject_id"]),
            },
        )
        return
    conflict = "" if new_subjects else " ON CONFLICT DO NOTHING"
    connection.connection.driver_connection.executemany(
        f"INSERT INTO identity_blocking_keys (key_bidx, subject_id) VALUES (?, ?){conflict}",
        rows.iter_rows(),
    )


def forget_blocking_keys(session: Session, pairs: pl.DataFrame) -> None:
    """Removes these (key_bidx, subject_id) pairs, found through the unique key."""
    if pairs.is_empty():
        return
    params = {
        "keys": list_param(session, pairs["key_bidx"]),
        "subjects": list_param(session, pairs["subject_id"]),
    }
    if is_postgres(session.connection().engine):
        statement = (
            "DELETE FROM identity_blocking_keys k USING unnest(CAST(:keys AS bigint[]), "
            "CAST(:subjects AS integer[])) AS d(key_bidx, subject_id) "
            "WHERE k.key_bidx = d.key_bidx AND k.subject_id = d.subject_id"
        )
    else:
        statement = (
            "DELETE FROM identity_blocking_keys WHERE (key_bidx, subject_id) IN ("
            "SELECT k.value, s.value FROM json_each(:keys) k JOIN json_each(:subjects) s "
            "ON s.key = k.key)"
        )
    session.execute(text(statement), params)


# One pass over each key's index range: up to max_block_size + 1 rows are read and counted,
# and the key is dropped if it filled them. About 5x faster on a load's hundreds of
# thousands of keys than counting in a subquery and joining again.
_PG_USABLE_KEY_ROWS = (
    "WITH wanted AS (SELECT DISTINCT unnest(CAST(%(keys)s AS bigint[])) AS key), "
    "near AS (SELECT w.key, c.subject_id, count(*) OVER (PARTITION BY w.key) AS n "
    "FROM wanted w CROSS JOIN LATERAL (SELECT subject_id FROM identity_blocking_keys c "
    "WHERE c.key_bidx = w.key LIMIT %(over)s) AS c) "
    "SELECT n.key, COALESCE(s.merged_into, s.id) FROM near n "
    "JOIN subjects s ON s.id = n.subject_id WHERE n.n <= %(cap)s"
)


def usable_key_rows(
    session: Session, key_hashes: list[int] | pl.Series, settings: MatchSettings
) -> list[tuple[int, int]]:
    """(key, subject) for each of these keys held by at most max_block_size subjects.

    Whether a key is usable is counted with LIMIT max_block_size + 1, so a key shared by
    thousands of subjects (a common surname and birth year among a million people) costs a
    bounded index range (max_block_size + 1 entries), however many subjects hold it.
    """
    if len(key_hashes) == 0:
        return []
    params = {
        "keys": list_param(session, key_hashes),
        "cap": settings.max_block_size,
        "over": settings.max_block_size + 1,
    }
    connection = session.connection()
    if is_postgres(connection.engine):
        # Straight to the driver: a first load's candidate search returns hundreds of
        # thousands of rows, and SQLAlchemy's Row objects cost about 7 us each.
        raw = connection.connection.driver_connection
        return raw.execute(_PG_USABLE_KEY_ROWS, params).fetchall()
    statement = (
        "WITH wanted AS (SELECT value AS key FROM json_each(:keys)), "
        "usable AS (SELECT w.key FROM wanted w WHERE ("
        "SELECT count(*) FROM (SELECT 1 FROM identity_blocking_keys c "
        "WHERE c.key_bidx = w.key LIMIT :over) AS x) <= :cap) "
        "SELECT k.key_bidx, COALESCE(s.merged_into, s.id) FROM usable u "
        "JOIN identity_blocking_keys k ON k.key_bidx = u.key "
        "JOIN subjects s ON s.id = k.subject_id"
    )
    return [tuple(row) for row in session.execute(text(statement), params)]


def candidate_subjects(
    session: Session, record_keys: pl.DataFrame, settings: MatchSettings
) -> pl.DataFrame:
    """record_id, subject_id, shared: subjects sharing enough usable keys with each record."""
    empty = pl.DataFrame(
        schema={"record_id": pl.Int64, "subject_id": pl.Int64, "shared": pl.UInt32}
    )
    if record_keys.is_empty():
        return empty
    rows = usable_key_rows(session, record_keys["key_bidx"].unique(), settings)
    if not rows:
        return empty
    usable = pl.DataFrame(
        rows, schema={"key_bidx": pl.Int64, "subject_id": pl.Int64}, orient="row"
    ).unique()
    return (
        record_keys.join(usable, on="key_bidx")
        .group_by("record_id", "subject_id")
        .agg(pl.len().alias("shared"))
        .filter(pl.col("shared") >= settings.min_shared_keys)
        .cast({"record_id": pl.Int64})
    )


def candidates_for_one(
    session: Session, key_hashes: list[int], settings: MatchSettings
) -> list[tuple[int, int]]:
    """(subject_id, shared keys) for one record, most shared first: the inquiry path."""
    if not key_hashes:
        return []
    rows = usable_key_rows(session, key_hashes, settings)
    per_key: dict[int, set[int]] = {}
    for key, subject in rows:
        per_key.setdefault(key, set()).add(subject)
    shared: dict[int, int] = {}
    for subjects_of_key in per_key.values():
        for subject in subjects_of_key:
            shared[subject] = shared.get(subject, 0) + 1
    ranked = [(s, n) for s, n in shared.items() if n >= settings.min_shared_keys]
    return sorted(ranked, key=lambda pair: (-pair[1], pair[0]))


def identities_of_subjects(
    session: Session, keys: BureauKeys, subject_ids: list[int], region: str
) -> dict[int, list[dict]]:
    """The normalised identities each subject (merged subjects included) was reported with."""
    if not subject_ids:
        return {}
    rows = session.execute(
        text(
            "SELECT COALESCE(s.merged_into, s.id), i.national_id_type, i.national_id_enc, "
            "i.name_enc, i.dob_enc, i.address_enc, i.phone_enc "
            "FROM subject_identities i JOIN subjects s ON s.id = i.subject_id "
            f"WHERE {in_values(session, 's.id', 'ids', 'integer')} "
            f"OR {in_values(session, 's.merged_into', 'ids', 'integer')}"
        ),
        {"ids": list_param(session, subject_ids)},
    ).all()
    if not rows:
        return {}
    if len(rows) > _FEW:
        identities = normalized(decrypted_identities(keys, rows), region).iter_rows(named=True)
    else:
        identities = (
            normalize_record(raw_identity(*fields), default_region=region)
            for fields in _decrypted_fields(keys, rows)
        )
    profiles: dict[int, list[dict]] = {}
    for row, identity in zip(rows, identities, strict=True):
        profiles.setdefault(row[0], []).append(identity)
    return profiles


# What `decrypted_identities` reads, subject first: select(*ENCRYPTED_IDENTITY).
ENCRYPTED_IDENTITY = (
    subject_identities.c.subject_id,
    subject_identities.c.national_id_type,
    subject_identities.c.national_id_enc,
    subject_identities.c.name_enc,
    subject_identities.c.dob_enc,
    subject_identities.c.address_enc,
    subject_identities.c.phone_enc,
)


def _decrypted_fields(keys: BureauKeys, rows: list):
    """(name, type, id, dob, address, phone) in clear, in raw_identity's order, per row of
    (owner, type, id, name, dob, address, phone) ciphertexts."""
    decrypt = keys.decrypt

    def optional(blob: bytes | None) -> str | None:
        return decrypt(blob) if blob is not None else None

    for r in rows:
        yield decrypt(r[3]), r[1], decrypt(r[2]), decrypt(r[4]), optional(r[5]), optional(r[6])


def decrypted_identities(keys: BureauKeys, rows: list) -> pl.DataFrame:
    """Rows of (owner, type, id, name, dob, address, phone) ciphertexts → an identity frame
    whose record_no is the row's position."""
    return pl.DataFrame(
        [(n, *fields) for n, fields in enumerate(_decrypted_fields(keys, rows))],
        schema=IDENTITY_SCHEMA,
        orient="row",
    )


def rank_candidates(
    model: IdentityModel, record: dict, profiles: dict[int, list[dict]], subject_ids: list[int]
) -> list[Candidate]:
    """Each candidate subject's best-scoring identity against the record, best first."""
    ranked = []
    for subject_id in subject_ids:
        identities = profiles.get(subject_id, [])
        if not identities:
            continue
        scored = [(model.score(record, identity), identity) for identity in identities]
        score, identity = max(scored, key=lambda pair: pair[0].match_weight)
        ranked.append(Candidate(subject_id, score, identity))
    ranked.sort(key=lambda c: -c.score.match_weight)
    return ranked


def explanation(model: IdentityModel, record: dict, candidate: Candidate | None) -> dict:
    """What a decision rested on: each compared field, the level it reached and its weight."""
    if candidate is None:
        return {"model_version": model.version, "candidates": 0}
    detail = model.explain(record, candidate.identity).as_dict()
    return {"model_version": model.version, "candidate_subject_id": candidate.subject_id} | detail
