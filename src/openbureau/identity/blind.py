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


@lru_cache(maxsize=50_000)
def _romanized(char: str) -> str:
    return "".join(lazy_pinyin(char))


@lru_cache(maxsize=200_000)
def name_key(name: str) -> str:
    text = unicodedata.normalize("NFKC", name)
    if _has_cjk(text):
        # Character by character: a few thousand characters cover nearly every name, and
        # the key only confirms a national-ID match, so phrase-level readings add nothing.
        text = "".join(_romanized(ch) for ch in text)
    letters = [ch for ch in text.casefold() if ch.isalpha()]
    return "".join(sorted(letters))


def _mapped(series: pl.Series, fn_many) -> pl.Series:
    """Applies `fn_many` to the distinct values once and maps the results back onto the column."""
    uniques = series.drop_nulls().unique()
    mapping = pl.DataFrame(
        {"v": uniques, "k": fn_many(uniques.to_list())},
        schema={"v": series.dtype, "k": pl.Utf8},
    )
    return pl.DataFrame({"v": series}).join(mapping, on="v", how="left", maintain_order="left")["k"]


def _name_keys(names: list[str]) -> list[str]:
    return [name_key(n) for n in names]


def identity_keys(frame: pl.DataFrame, keys: BureauKeys) -> pl.DataFrame:
    """Adds national_id_bidx, name_bidx and dob_bidx to a typed furnishing or inquiry frame."""
    id_text = pl.concat_str([pl.col("national_id_type"), pl.lit(":"), pl.col("national_id")])
    names = _mapped(frame["full_name"], _name_keys)
    return frame.with_columns(
        _mapped(
            frame.select(id_text)[:, 0], lambda v: keys.blind_index_many("national_id", v)
        ).alias("national_id_bidx"),
        _mapped(names, lambda v: keys.blind_index_many("name", v)).alias("name_bidx"),
        _mapped(
            frame["date_of_birth"].cast(pl.Utf8), lambda v: keys.blind_index_many("dob", v)
        ).alias("dob_bidx"),
    )
