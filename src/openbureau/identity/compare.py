"""Field comparisons producing discrete levels, defined twice in lock-step:

* as SQL (DuckDB dialect) for Splink, which estimates m/u per level and scores batches, and
* as pure Python (rapidfuzz) for the online scorer, which must not import Splink.

Both definitions live side by side in :data:`COMPARISONS` and a test checks that they assign
the same level to the same pair. Levels are listed best first; the first level of each
comparison is its null level (either side missing → no evidence, weight 0); the last is
"else".

Inputs are *normalised* records (see :mod:`openbureau.identity.normalize`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rapidfuzz.distance import Hamming, JaroWinkler, Levenshtein

__all__ = [
    "COMPARISONS",
    "Comparison",
    "Level",
    "compare",
    "comparison_names",
    "splink_comparisons",
]

Record = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Level:
    label: str
    sql: str
    test: Callable[[Record, Record], bool]
    is_null: bool = False


@dataclass(frozen=True, slots=True)
class Comparison:
    name: str
    columns: tuple[str, ...]
    levels: tuple[Level, ...]

    def level(self, a: Record, b: Record) -> str:
        """Label of the first level whose test holds (the last level is always 'else')."""
        for lv in self.levels:
            try:
                if lv.test(a, b):
                    return lv.label
            except TypeError:  # comparing None etc.: SQL NULL semantics → condition false
                continue
        return self.levels[-1].label

    def to_splink(self) -> dict[str, Any]:
        return {
            "output_column_name": self.name,
            "comparison_description": self.name,
            "comparison_levels": [
                {"sql_condition": lv.sql, "label_for_charts": lv.label, "is_null_level": lv.is_null}
                for lv in self.levels
            ],
        }


# ----------------------------------------------------------------------------- helpers


def _missing(v: Any) -> bool:
    return v is None or v == "" or (isinstance(v, list | tuple) and len(v) == 0)


def _eq(x: Any, y: Any) -> bool:
    return x is not None and y is not None and x == y


def _jw(x: Any, y: Any) -> float:
    if x is None or y is None:
        raise TypeError
    return JaroWinkler.similarity(x, y)


def _lev(x: Any, y: Any) -> int:
    if x is None or y is None:
        raise TypeError
    return Levenshtein.distance(x, y)


def _one_edit(x: Any, y: Any) -> bool:
    """One insertion/deletion/substitution, or two characters swapped (transposition)."""
    if x is None or y is None:
        raise TypeError
    if Levenshtein.distance(x, y) <= 1:
        return True
    return len(x) == len(y) and Hamming.distance(x, y) == 2 and sorted(x) == sorted(y)


def _one_edit_sql(col: str) -> str:
    a, b = f'"{col}_l"', f'"{col}_r"'
    return (
        f"(levenshtein({a}, {b}) <= 1 OR ("
        f"(CASE WHEN length({a}) = length({b}) THEN hamming({a}, {b}) ELSE -1 END) = 2 "
        f"AND list_sort(string_split({a}, '')) = list_sort(string_split({b}, ''))))"
    )


def _swap_dm(d: str) -> str:
    return d[:4] + d[6:8] + d[4:6]


def _jaccard_at_least(x: Any, y: Any, t: float) -> bool:
    sx, sy = set(x), set(y)
    inter = len(sx & sy)
    # inter / (|x| + |y| - inter) >= t, written without division exactly as in SQL
    return inter * (1 + t) >= t * (len(sx) + len(sy))


def _null2(col: str) -> str:
    return f'"{col}_l" IS NULL OR "{col}_r" IS NULL'


def _jw_sql(col: str, t: float) -> str:
    return f'jaro_winkler_similarity("{col}_l", "{col}_r") >= {t}'


# ----------------------------------------------------------------------------- comparisons

GIVEN_NAME = Comparison(
    "given_name",
    ("given", "given_full", "surname"),
    (
        Level("null", _null2("given"), lambda a, b: _missing(a["given"]) or _missing(b["given"]),
              is_null=True),
        Level(
            "exact",
            '"given_l" = "given_r" OR "given_full_l" = "given_full_r"',
            lambda a, b: _eq(a["given"], b["given"]) or _eq(a["given_full"], b["given_full"]),
        ),
        Level(
            "swapped_with_surname",
            '"given_full_l" = "surname_r" OR "surname_l" = "given_full_r"',
            lambda a, b: _eq(a["given_full"], b["surname"]) or _eq(a["surname"], b["given_full"]),
        ),
        Level("jw_0.92", _jw_sql("given_full", 0.92),
              lambda a, b: _jw(a["given_full"], b["given_full"]) >= 0.92),
        Level("jw_0.80", _jw_sql("given_full", 0.8),
              lambda a, b: _jw(a["given_full"], b["given_full"]) >= 0.8),
        Level("else", "ELSE", lambda a, b: True),
    ),
)

SURNAME = Comparison(
    "surname",
    ("surname", "given_full"),
    (
        Level("null", _null2("surname"),
              lambda a, b: _missing(a["surname"]) or _missing(b["surname"]), is_null=True),
        Level("exact", '"surname_l" = "surname_r"', lambda a, b: _eq(a["surname"], b["surname"])),
        Level(
            "swapped_with_given",
            '"surname_l" = "given_full_r" OR "given_full_l" = "surname_r"',
            lambda a, b: _eq(a["surname"], b["given_full"]) or _eq(a["given_full"], b["surname"]),
        ),
        Level("jw_0.92", _jw_sql("surname", 0.92),
              lambda a, b: _jw(a["surname"], b["surname"]) >= 0.92),
        Level("jw_0.80", _jw_sql("surname", 0.8),
              lambda a, b: _jw(a["surname"], b["surname"]) >= 0.8),
        Level("else", "ELSE", lambda a, b: True),
    ),
)

_DOB_SWAP_SQL = (
    '"dob_l" = substr("dob_r", 1, 4) || substr("dob_r", 7, 2) || substr("dob_r", 5, 2)'
)

DOB = Comparison(
    "dob",
    ("dob", "dob_year"),
    (
        Level("null", _null2("dob"), lambda a, b: _missing(a["dob"]) or _missing(b["dob"]),
              is_null=True),
        Level("exact", '"dob_l" = "dob_r"', lambda a, b: a["dob"] == b["dob"]),
        Level("swapped_day_month", _DOB_SWAP_SQL, lambda a, b: a["dob"] == _swap_dm(b["dob"])),
        Level("one_digit", _one_edit_sql("dob"), lambda a, b: _one_edit(a["dob"], b["dob"])),
        Level("two_digits", 'levenshtein("dob_l", "dob_r") <= 2',
              lambda a, b: _lev(a["dob"], b["dob"]) <= 2),
        Level("year_within_2", 'abs("dob_year_l" - "dob_year_r") <= 2',
              lambda a, b: abs(a["dob_year"] - b["dob_year"]) <= 2),
        Level("else", "ELSE", lambda a, b: True),
    ),
)

NATIONAL_ID = Comparison(
    "national_id",
    ("nid", "nid_type"),
    (
        Level(
            "null",
            '"nid_l" IS NULL OR "nid_r" IS NULL OR "nid_type_l" <> "nid_type_r"',
            lambda a, b: _missing(a["nid"]) or _missing(b["nid"]) or a["nid_type"] != b["nid_type"],
            is_null=True,
        ),
        Level("exact", '"nid_l" = "nid_r"', lambda a, b: a["nid"] == b["nid"]),
        Level("one_edit", _one_edit_sql("nid"), lambda a, b: _one_edit(a["nid"], b["nid"])),
        Level("two_edits", 'levenshtein("nid_l", "nid_r") <= 2',
              lambda a, b: _lev(a["nid"], b["nid"]) <= 2),
        Level("else", "ELSE", lambda a, b: True),
    ),
)

_ADDR_INTER_SQL = (
    'len(list_filter("addr_tokens_l", lambda x: list_contains("addr_tokens_r", x)))'
)


def _jaccard_sql(t: float) -> str:
    # tokens are distinct per record (normalize_address), so this is |A∩B|/|A∪B| >= t
    return (
        f'{_ADDR_INTER_SQL} * {1 + t} >= {t} * (len("addr_tokens_l") + len("addr_tokens_r"))'
    )


ADDRESS = Comparison(
    "address",
    ("addr_tokens",),
    (
        Level(
            "null",
            '"addr_tokens_l" IS NULL OR "addr_tokens_r" IS NULL '
            'OR len("addr_tokens_l") = 0 OR len("addr_tokens_r") = 0',
            lambda a, b: _missing(a["addr_tokens"]) or _missing(b["addr_tokens"]),
            is_null=True,
        ),
        Level("jaccard_0.8", _jaccard_sql(0.8),
              lambda a, b: _jaccard_at_least(a["addr_tokens"], b["addr_tokens"], 0.8)),
        Level("jaccard_0.5", _jaccard_sql(0.5),
              lambda a, b: _jaccard_at_least(a["addr_tokens"], b["addr_tokens"], 0.5)),
        Level("jaccard_0.25", _jaccard_sql(0.25),
              lambda a, b: _jaccard_at_least(a["addr_tokens"], b["addr_tokens"], 0.25)),
        Level("else", "ELSE", lambda a, b: True),
    ),
)

POSTCODE = Comparison(
    "postcode",
    ("postcode",),
    (
        Level("null", _null2("postcode"),
              lambda a, b: _missing(a["postcode"]) or _missing(b["postcode"]), is_null=True),
        Level("exact", '"postcode_l" = "postcode_r"', lambda a, b: a["postcode"] == b["postcode"]),
        Level("one_edit", 'levenshtein("postcode_l", "postcode_r") <= 1',
              lambda a, b: _lev(a["postcode"], b["postcode"]) <= 1),
        Level("else", "ELSE", lambda a, b: True),
    ),
)

PHONE = Comparison(
    "phone",
    ("phone",),
    (
        Level("null", _null2("phone"), lambda a, b: _missing(a["phone"]) or _missing(b["phone"]),
              is_null=True),
        Level("exact", '"phone_l" = "phone_r"', lambda a, b: a["phone"] == b["phone"]),
        Level("else", "ELSE", lambda a, b: True),
    ),
)

COMPARISONS: tuple[Comparison, ...] = (
    GIVEN_NAME,
    SURNAME,
    DOB,
    NATIONAL_ID,
    ADDRESS,
    POSTCODE,
    PHONE,
)

COMPARISON_COLUMNS: tuple[str, ...] = tuple(
    dict.fromkeys(c for comp in COMPARISONS for c in comp.columns)
)


def comparison_names() -> list[str]:
    return [c.name for c in COMPARISONS]


def compare(
    a: Record, b: Record, comparisons: tuple[Comparison, ...] = COMPARISONS
) -> dict[str, str]:
    """Level label per comparison for two normalised records, e.g.
    ``{"given_name": "exact", "dob": "swapped_day_month", "national_id": "null", ...}``."""
    return {c.name: c.level(a, b) for c in comparisons}


def splink_comparisons(comparisons: tuple[Comparison, ...] = COMPARISONS) -> list[dict]:
    """Splink comparison dicts (DuckDB SQL) equivalent to the Python definitions."""
    return [c.to_splink() for c in comparisons]
