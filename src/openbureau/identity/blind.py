"""Normalized forms behind the blind indexes used for exact identity lookups.

The name key only ever confirms a national-ID match, so it is deliberately order- and
script-insensitive: 张晓明, "ZHANG Xiaoming" and "Xiaoming Zhang" share one key.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import polars as pl
from pypinyin import lazy_pinyin

from openbureau.governance.crypto import BureauKeys


def _has_cjk(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" for ch in text)


@lru_cache(maxsize=200_000)
def name_key(name: str) -> str:
    text = unicodedata.normalize("NFKC", name)
    if _has_cjk(text):
        text = "".join(lazy_pinyin(text))
    letters = [ch for ch in text.casefold() if ch.isalpha()]
    return "".join(sorted(letters))


def _mapped(series: pl.Series, fn) -> pl.Series:
    """Applies `fn` once per distinct value and maps the results back onto the column."""
    uniques = series.unique()
    mapping = pl.DataFrame(
        {"v": uniques, "k": [None if v is None else fn(v) for v in uniques.to_list()]},
        schema={"v": series.dtype, "k": pl.Utf8},
    )
    return pl.DataFrame({"v": series}).join(
        mapping, on="v", how="left", nulls_equal=True, maintain_order="left"
    )["k"]


def identity_keys(frame: pl.DataFrame, keys: BureauKeys) -> pl.DataFrame:
    """Adds national_id_bidx, name_bidx and dob_bidx to a typed furnishing or inquiry frame."""
    id_text = pl.concat_str([pl.col("national_id_type"), pl.lit(":"), pl.col("national_id")])
    frame = frame.with_columns(id_text.alias("_id_text"))
    names = _mapped(frame["full_name"], name_key)
    dob_text = frame["date_of_birth"].cast(pl.Utf8)
    return frame.with_columns(
        _mapped(frame["_id_text"], lambda v: keys.blind_index("national_id", v)).alias(
            "national_id_bidx"
        ),
        _mapped(names, lambda v: keys.blind_index("name", v)).alias("name_bidx"),
        _mapped(dob_text, lambda v: keys.blind_index("dob", v)).alias("dob_bidx"),
    ).drop("_id_text")
