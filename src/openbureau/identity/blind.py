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


# name_key's two common inputs, which NFKC leaves as they are: ASCII, and CJK ideographs
# (the compatibility block U+F900-FAFF is changed by NFKC, so it is not in the range).
_ASCII = r"^[\x00-\x7f]*$"
_CJK = r"^[\x{3400}-\x{9fff}]+$"


def _letters(texts: list[str]) -> list[str]:
    """name_key's letters of each text, unsorted: romanised, case-folded, letters only."""
    return ["".join(c for c in _romanized(t).casefold() if c.isalpha()) for t in texts]


def name_keys(names: pl.Series) -> pl.Series:
    """name_key of each name (null stays null), with ASCII and CJK names done by expressions:
    a furnisher's file holds hundreds of thousands of distinct names."""
    frame = pl.DataFrame({"name": names.cast(pl.Utf8)}).with_row_index("row")
    name = pl.col("name")
    ascii_, cjk = name.str.contains(_ASCII), name.str.contains(_CJK)
    # ASCII: casefold is lower case, and isalpha keeps a-z.
    plain = frame.filter(ascii_).select(
        "row", letters=name.str.to_lowercase().str.replace_all("[^a-z]", "")
    )
    chars = frame.filter(cjk & ~ascii_).select("row", char=name.str.split("")).explode("char")
    distinct = chars["char"].unique()
    romanized = chars.join(
        pl.DataFrame({"char": distinct, "letters": _letters(distinct.to_list())}),
        on="char",
        maintain_order="left",
    )
    han = romanized.group_by("row", maintain_order=True).agg(pl.col("letters").str.join(""))
    others = frame.filter(~ascii_ & ~cjk)
    rest = others.select("row", key=pl.Series(_name_keys(others["name"].to_list()), dtype=pl.Utf8))
    sorted_letters = pl.col("letters").str.split("").list.sort().list.join("")
    keyed = pl.concat(
        [plain.select("row", key=sorted_letters), han.select("row", key=sorted_letters), rest]
    )
    return (
        frame.select("row")
        .join(keyed, on="row", how="left", maintain_order="left")["key"]
        .alias(names.name)
    )


def identity_keys(frame: pl.DataFrame, keys: BureauKeys) -> pl.DataFrame:
    """Adds national_id_bidx, name_bidx and dob_bidx to a typed furnishing or inquiry frame."""
    id_text = pl.concat_str([pl.col("national_id_type"), pl.lit(":"), pl.col("national_id")])
    names = name_keys(frame["full_name"])
    return frame.with_columns(
        _mapped(
            frame.select(id_text)[:, 0], lambda v: keys.blind_index_many("national_id", v)
        ).alias("national_id_bidx"),
        _mapped(names, lambda v: keys.blind_index_many("name", v)).alias("name_bidx"),
        _mapped(
            frame["date_of_birth"].cast(pl.Utf8), lambda v: keys.blind_index_many("dob", v)
        ).alias("dob_bidx"),
    )
