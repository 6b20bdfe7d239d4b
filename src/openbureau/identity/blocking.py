"""Blocking keys: short strings derived from a normalised record.

Two records become candidate pairs when they share at least one key. The core HMACs each key
(blind index) and stores ``(hmac(key), subject_id)`` in an indexed table; online resolution
looks up the HMACs of a new record's keys to fetch a handful of candidate subjects, and batch
resolution self-joins records on the same keys. Keys are prefixed by their kind so that equal
values of different kinds never collide.

==========  ================================================  ===============================
prefix      value                                             catches
==========  ================================================  ===============================
``id:``     ``<nid_type>:<nid>`` (placeholders excluded)     same national ID
``sy:``     romanised surname + birth year                    typo'd given name / DOB day
``gd:``     given-name initial + full DOB                     typo'd / changed surname
``nd:``     order-agnostic name key + DOB month-day           wrong birth year
``ph:``     E.164 phone                                       moves, name changes
``dp:``     DOB + postcode                                    name typos in both parts
``ap:``     postcode + street number/first address token     DOB missing, name typos
                 + surname initial
``nk:``     order-agnostic full name key + postcode           DOB missing or wrong
==========  ================================================  ===============================

Very common values produce huge blocks; batch resolution drops keys shared by more than
``max_block_size`` records (default 100; the same cap should be applied to online candidate
lookups).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

__all__ = ["KEY_KINDS", "blocking_keys", "blocking_keys_frame"]

KEY_KINDS = ("id", "sy", "gd", "nd", "ph", "dp", "ap", "nk")


def _addr_anchor(tokens: Any) -> str | None:
    if not tokens:
        return None
    for t in tokens:
        if t.isdigit():
            return t
    return tokens[0]


def blocking_keys(rec: Mapping[str, Any]) -> list[str]:
    """Blocking keys of one *normalised* record (a row of ``normalize_records`` / the output of
    ``normalize_record``). Returns a de-duplicated list of strings; possibly empty."""
    keys: list[str] = []
    nid, dob, sur = rec.get("nid"), rec.get("dob"), rec.get("surname")
    given, key, post = rec.get("given"), rec.get("name_key"), rec.get("postcode")
    year = rec.get("dob_year")
    if nid:
        keys.append(f"id:{rec.get('nid_type') or 'other'}:{nid}")
    if sur and year:
        keys.append(f"sy:{sur}:{year}")
    if given and dob:
        keys.append(f"gd:{given[0]}:{dob}")
    if key and dob:
        keys.append(f"nd:{key}:{dob[4:]}")
    if rec.get("phone"):
        keys.append(f"ph:{rec['phone']}")
    if dob and post:
        keys.append(f"dp:{dob}:{post}")
    anchor = _addr_anchor(rec.get("addr_tokens"))
    if post and anchor and sur:
        keys.append(f"ap:{post}:{anchor}:{sur[0]}")
    if key and post:
        keys.append(f"nk:{key}:{post}")
    return list(dict.fromkeys(keys))


def blocking_keys_frame(df: pl.DataFrame, id_column: str = "record_id") -> pl.DataFrame:
    """Vectorised :func:`blocking_keys` for a normalised frame → long frame ``(id, key)``.

    Produces exactly the keys :func:`blocking_keys` gives for each row (tested).
    """
    dob, sur, given = pl.col("dob"), pl.col("surname"), pl.col("given")
    key, post, year = pl.col("name_key"), pl.col("postcode"), pl.col("dob_year")
    tokens = pl.col("addr_tokens")
    first_digit = tokens.list.eval(
        pl.element().filter(pl.element().str.contains(r"^[0-9]+$"))
    ).list.first()
    anchor = pl.coalesce(first_digit, tokens.list.first())

    def k(prefix: str, *parts: pl.Expr) -> pl.Expr:
        # concat_str returns null if any part is null
        return pl.concat_str([pl.lit(prefix), *parts], separator=":")

    exprs = {
        "id": k("id", pl.col("nid_type").fill_null("other"), pl.col("nid")),
        "sy": k("sy", sur, year.cast(pl.String)),
        "gd": k("gd", given.str.slice(0, 1), dob),
        "nd": k("nd", key, dob.str.slice(4)),
        "ph": k("ph", pl.col("phone")),
        "dp": k("dp", dob, post),
        "ap": k("ap", post, anchor, sur.str.slice(0, 1)),
        "nk": k("nk", key, post),
    }
    empty = pl.lit("")
    guards = {
        "id": pl.col("nid").fill_null(empty) != "",
        "sy": (sur.fill_null(empty) != "") & year.is_not_null(),
        "gd": (given.fill_null(empty) != "") & (dob.fill_null(empty) != ""),
        "nd": (key.fill_null(empty) != "") & (dob.fill_null(empty) != ""),
        "ph": pl.col("phone").fill_null(empty) != "",
        "dp": (dob.fill_null(empty) != "") & (post.fill_null(empty) != ""),
        "ap": (post.fill_null(empty) != "") & (anchor.fill_null(empty) != "")
        & (sur.fill_null(empty) != ""),
        "nk": (key.fill_null(empty) != "") & (post.fill_null(empty) != ""),
    }
    wide = df.select(
        pl.col(id_column),
        *[pl.when(guards[n]).then(e).otherwise(None).alias(n) for n, e in exprs.items()],
    )
    return (
        wide.unpivot(index=id_column, on=list(exprs), value_name="key")
        .drop("variable")
        .drop_nulls("key")
        .unique(maintain_order=True)
    )
