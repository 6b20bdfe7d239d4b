"""The columnar name keys of a furnished file equal name_key, value by value.

The name key's blind index confirms a national-ID match; a key computed differently for a
file than for an inquiry would make an unchanged consumer look like a new identity.
"""

from __future__ import annotations

import random

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from openbureau.identity.blind import name_key, name_keys

EDGES = [
    "张伟",
    "ZHANG Wei",
    "Wei Zhang",
    "",
    "  ",
    "O'Neil-Smith Jr.",
    "José Müller",
    "欧阳娜娜",
    "㐀鿿",
    "豈",
    "张·伟",
    "Ｊｏｈｎ",
    None,
    "x1y2",
    "吕小明",
    "ß",
    "abc\x00d",
    "Σίσυφος",
    "İ",
]


def _expected(values: list[str | None]) -> list[str | None]:
    return [None if v is None else name_key(v) for v in values]


def test_edges_and_a_mixed_population():
    rng = random.Random(1)
    pool = [chr(c) for c in [*range(0x20, 0x7F), *range(0x3400, 0x3410), *range(0x4E00, 0x4E40)]]
    pool += ["\uf900", "ß", "σ", "Σ", "İ", "\u3000"]
    values = EDGES + [
        "".join(rng.choice(pool) for _ in range(rng.randint(0, 8))) for _ in range(3000)
    ]
    values += [
        "".join(chr(rng.randint(0x3400, 0x9FFF)) for _ in range(rng.randint(1, 4)))
        for _ in range(3000)
    ]
    assert name_keys(pl.Series("full_name", values)).to_list() == _expected(values)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=12)), max_size=30))
def test_any_text(values):
    assert name_keys(pl.Series("full_name", values, dtype=pl.Utf8)).to_list() == _expected(values)
