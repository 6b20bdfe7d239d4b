"""Normalisation of identity attributes for matching.

Every function here is total: garbage in gives ``None`` (missing) out, never an exception.
Placeholders ("N/A", 000-00-0000, 123-45-6789, all-same-digit numbers, known test IDs) are
treated as missing so that they can never create a match.

The per-value functions here are the definition. The frame-level entry point
:func:`normalize_records` computes the same values on whole columns
(:mod:`openbureau.identity.normalize_columns`): polars expressions for the shapes they
reproduce exactly, and these functions, once per *distinct* value, for the rest (Han names
through pypinyin, names with particles through nameparser, phones outside the common shapes
through phonenumbers, other Unicode). :func:`normalize_records_reference` applies the
functions alone and is what the columnar frame is tested against.

Canonical input columns (all optional except ``record_id``)::

    record_id, full_name, given_name, middle_name, surname, name_suffix, dob, sex,
    national_id, id_country, address, postcode, phone

Output columns (see :data:`NORMALIZED_COLUMNS`)::

    given        first given name, romanised, lower case ASCII ("wei", "john")
    given_full   all given names joined without spaces ("xiaoming", "johnpaul")
    surname      romanised surname ("zhang", "oneil")
    suffix       generational suffix: "jr", "sr", "ii", "iii", "iv", "v" or null
    name_key     sorted name tokens joined by " " (order-agnostic: "wei zhang")
    script       "latin", "han", "mixed" or null
    dob          birth date "YYYYMMDD" (filled from a valid Chinese ID when missing)
    dob_year     birth year as int
    sex          "m" / "f" / null
    nid          national ID, canonical compact form
    nid_type     "cn_ric", "us_ssn" or "other"
    nid_valid    True when the checksum / structure validates for a known type
    id_dob       birth date embedded in a Chinese resident ID ("YYYYMMDD")
    id_sex       sex embedded in a Chinese resident ID
    id_conflict  True when the ID's embedded birth date / sex contradicts the record
    addr_tokens  list of normalised address tokens
    postcode     postcode, upper-case without spaces
    phone        E.164 phone number
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import polars as pl

__all__ = [
    "NORMALIZED_COLUMNS",
    "NationalId",
    "NormalizedName",
    "is_placeholder_text",
    "normalize_address",
    "normalize_date",
    "normalize_name",
    "normalize_national_id",
    "normalize_phone",
    "normalize_record",
    "normalize_records",
    "normalize_records_reference",
    "swap_day_month",
]

NORMALIZED_COLUMNS: dict[str, pl.DataType] = {
    "given": pl.String(),
    "given_full": pl.String(),
    "surname": pl.String(),
    "suffix": pl.String(),
    "name_key": pl.String(),
    "script": pl.String(),
    "dob": pl.String(),
    "dob_year": pl.Int32(),
    "sex": pl.String(),
    "nid": pl.String(),
    "nid_type": pl.String(),
    "nid_valid": pl.Boolean(),
    "id_dob": pl.String(),
    "id_sex": pl.String(),
    "id_conflict": pl.Boolean(),
    "addr_tokens": pl.List(pl.String()),
    "postcode": pl.String(),
    "phone": pl.String(),
}

INPUT_COLUMNS = (
    "full_name",
    "given_name",
    "middle_name",
    "surname",
    "name_suffix",
    "dob",
    "sex",
    "national_id",
    "id_country",
    "address",
    "postcode",
    "phone",
)

# --------------------------------------------------------------------------- placeholders

_PLACEHOLDER_TEXT = {
    "",
    "-",
    "--",
    "?",
    ".",
    "0",
    "na",
    "n/a",
    "n.a.",
    "n.a",
    "none",
    "null",
    "nil",
    "unknown",
    "unk",
    "missing",
    "not available",
    "not applicable",
    "test",
    "xxx",
    "xx",
    "x",
    "fnu",
    "lnu",
    "nfn",
    "nmn",
    "tbd",
    "无",
    "不详",
    "未知",
}

# Known test / advertising / example identifiers (compact forms).
_TEST_IDS = {
    "123456789",
    "987654321",
    "078051120",  # Woolworth wallet SSN
    "219099999",  # SSA advertisement SSN
    "457555462",
    "11010519491231002X",  # GB 11643 example ID, ubiquitous in test data
    "110101199003077777",
    "123456789012345678",
    "012345678",
}


def is_placeholder_text(value: Any) -> bool:
    """True for empty / "N/A"-like values that must be treated as missing."""
    if value is None:
        return True
    s = str(value).strip().lower()
    if s in _PLACEHOLDER_TEXT:
        return True
    # strings made only of punctuation / spaces / question marks
    return not any(ch.isalnum() for ch in s)


def _is_placeholder_number(digits: str) -> bool:
    if not digits:
        return True
    if len(set(digits)) == 1:  # 000000000, 111111111, 999...
        return True
    if digits.upper() in _TEST_IDS:
        return True
    # ascending / descending runs such as 1234567890, 0987654321
    runs = "01234567890123456789"
    return len(digits) >= 6 and (digits in runs or digits in runs[::-1])


# --------------------------------------------------------------------------- text helpers

_SUFFIXES = {
    "jr": "jr",
    "junior": "jr",
    "sr": "sr",
    "senior": "sr",
    "ii": "ii",
    "2nd": "ii",
    "iii": "iii",
    "3rd": "iii",
    "iv": "iv",
    "4th": "iv",
    "v": "v",
}
_TITLES = {"mr", "mrs", "ms", "miss", "dr", "prof", "sir", "mx", "先生", "女士"}

# surname particles / conjunctions: names containing them go through nameparser
_PARTICLES = {"van", "von", "de", "der", "den", "del", "della", "da", "di", "du", "la", "le",
              "st", "ste", "dos", "das", "bin", "binti", "al", "el", "y", "e", "and", "ter",
              "ten", "vander", "mac"}

_NAME_TOKEN_PLACEHOLDERS = {"fnu", "lnu", "nfn", "nmn", "unknown", "unk", "null", "none", "test"}

_PINYIN_VARIANTS = {"lv": "lu", "lyu": "lu", "lue": "lu", "nv": "nu", "nyu": "nu"}

# Chinese compound surnames (most common ones); everything else takes the first character.
_CN_COMPOUND_SURNAMES = {
    "欧阳",
    "司马",
    "上官",
    "诸葛",
    "东方",
    "皇甫",
    "尉迟",
    "公孙",
    "慕容",
    "令狐",
    "夏侯",
    "长孙",
    "宇文",
    "司徒",
    "轩辕",
    "端木",
    "独孤",
    "南宫",
    "西门",
    "申屠",
}

_HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_RE = re.compile(r"[A-Za-z]")
_NON_ALNUM_RE = re.compile(r"[^0-9a-z\u3400-\u4dbf\u4e00-\u9fff]+")


def _fold(s: str) -> str:
    """NFKC + strip accents + lower case (keeps Han characters)."""
    if s.isascii():
        return s.lower()
    s = unicodedata.normalize("NFKC", s)
    s = "".join(
        ch for ch in unicodedata.normalize("NFKD", s) if not unicodedata.combining(ch)
    )
    s = s.replace("ß", "ss").replace("ø", "o").replace("æ", "ae").replace("ł", "l")
    return s.lower()


@lru_cache(maxsize=200_000)
def _romanize_han(text: str) -> tuple[str, ...]:
    from pypinyin import lazy_pinyin  # imported lazily: ~0.3 s import

    return tuple(_PINYIN_VARIANTS.get(p, p) for p in lazy_pinyin(text) if p.strip())


def _clean_latin_token(tok: str) -> str:
    tok = _NON_ALNUM_RE.sub("", _fold(tok))
    return _PINYIN_VARIANTS.get(tok, tok)


@dataclass(frozen=True, slots=True)
class NormalizedName:
    given: str | None
    given_full: str | None
    surname: str | None
    suffix: str | None
    name_key: str | None
    script: str | None


_EMPTY_NAME = NormalizedName(None, None, None, None, None, None)


def _script_of(text: str) -> str | None:
    han = bool(_HAN_RE.search(text))
    lat = bool(_LATIN_RE.search(text))
    if han and lat:
        return "mixed"
    if han:
        return "han"
    if lat:
        return "latin"
    return None


def _split_han_name(text: str) -> tuple[str, str]:
    chars = "".join(_HAN_RE.findall(text))
    if len(chars) >= 3 and chars[:2] in _CN_COMPOUND_SURNAMES:
        return chars[:2], chars[2:]
    return chars[:1], chars[1:]


def _tokens_latin(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text)
    return [t for t in re.split(r"[\s,]+", text.strip()) if t]


@lru_cache(maxsize=500_000)
def _normalize_name_cached(
    full: str | None,
    given: str | None,
    middle: str | None,
    surname: str | None,
    suffix: str | None,
) -> NormalizedName:
    parts = [p for p in (full, given, middle, surname) if p]
    if not parts:
        return _EMPTY_NAME
    script = _script_of(" ".join(parts))
    suffix_n = _SUFFIXES.get(_clean_latin_token(suffix)) if suffix else None

    given_tokens: list[str] = []
    surname_tokens: list[str] = []

    def han_parts(text: str, role: str | None) -> None:
        if role == "given":
            given_tokens.extend(_romanize_han("".join(_HAN_RE.findall(text))))
        elif role == "surname":
            surname_tokens.extend(_romanize_han("".join(_HAN_RE.findall(text))))
        else:
            sur, giv = _split_han_name(text)
            surname_tokens.extend(_romanize_han(sur))
            given_tokens.extend(_romanize_han(giv))

    if given or surname or middle:
        for text, role in ((given, "given"), (middle, "given"), (surname, "surname")):
            if not text:
                continue
            if _HAN_RE.search(text):
                han_parts(text, role)
                continue
            toks = []
            for raw in _tokens_latin(text):
                t = _clean_latin_token(raw)
                if not t:
                    continue
                if t in _SUFFIXES and role == "surname" and toks:
                    suffix_n = suffix_n or _SUFFIXES[t]
                    continue
                if t in _TITLES:
                    continue
                toks.append(t)
            (given_tokens if role == "given" else surname_tokens).extend(toks)
    else:
        text = full or ""
        if _HAN_RE.search(text) and not _LATIN_RE.search(text):
            han_parts(text, None)
        else:
            raw_tokens = _tokens_latin(text)
            # Suffix anywhere as its own token
            kept: list[str] = []
            for raw in raw_tokens:
                c = _clean_latin_token(raw)
                if c in _SUFFIXES and kept:
                    suffix_n = suffix_n or _SUFFIXES[c]
                    continue
                if c in _TITLES or not c:
                    continue
                kept.append(raw.strip(","))
            # "ZHANG Wei": an all-caps token next to mixed-case tokens is the family name
            caps = [t for t in kept if t.isupper() and len(t) > 1]
            if "," in text:
                sur, _, rest = text.partition(",")
                surname_tokens = [_clean_latin_token(t) for t in _tokens_latin(sur)]
                given_tokens = [
                    _clean_latin_token(t)
                    for t in _tokens_latin(rest)
                    if _clean_latin_token(t) not in _SUFFIXES
                    and _clean_latin_token(t) not in _TITLES
                ]
            elif caps and len(caps) < len(kept):
                surname_tokens = [_clean_latin_token(t) for t in caps]
                given_tokens = [_clean_latin_token(t) for t in kept if t not in caps]
            elif len(kept) == 1:
                surname_tokens = [_clean_latin_token(kept[0])]
            elif kept and not any(_clean_latin_token(t) in _PARTICLES for t in kept):
                # plain "Given [Middle ...] Surname": nameparser would agree, 100x faster
                toks = [_clean_latin_token(t) for t in kept]
                given_tokens, surname_tokens = toks[:-1], toks[-1:]
            elif kept:
                from nameparser import HumanName

                hn = HumanName(" ".join(kept))
                given_tokens = [
                    _clean_latin_token(t) for t in f"{hn.first} {hn.middle}".split()
                ]
                surname_tokens = [_clean_latin_token(t) for t in hn.last.split()]
                if not surname_tokens and given_tokens:
                    surname_tokens = [given_tokens.pop()]
                # Han characters mixed into a Latin full name: romanise them in place
            given_tokens = [t for t in given_tokens if t]
            surname_tokens = [t for t in surname_tokens if t]
            if _HAN_RE.search(text):
                given_tokens = [
                    "".join(_romanize_han(t)) if _HAN_RE.search(t) else t for t in given_tokens
                ]
                surname_tokens = [
                    "".join(_romanize_han(t)) if _HAN_RE.search(t) else t for t in surname_tokens
                ]

    given_tokens = [t for t in given_tokens if t and t not in _NAME_TOKEN_PLACEHOLDERS]
    surname_tokens = [t for t in surname_tokens if t and t not in _NAME_TOKEN_PLACEHOLDERS]
    if not given_tokens and not surname_tokens:
        return NormalizedName(None, None, None, suffix_n, None, script)
    g = given_tokens[0] if given_tokens else None
    gfull = "".join(given_tokens) or None
    s = "".join(surname_tokens) or None
    key_tokens = sorted(t for t in (gfull, s) if t)
    return NormalizedName(g, gfull, s, suffix_n, " ".join(key_tokens), script)


def normalize_name(
    full: Any = None,
    given: Any = None,
    surname: Any = None,
    middle: Any = None,
    suffix: Any = None,
) -> NormalizedName:
    """Normalise a person name given either as one string or as parts.

    Chinese names are romanised with pypinyin (surname = first character, or a known
    compound surname), so ``张伟``, ``"ZHANG Wei"`` and ``"Wei Zhang"`` all give
    ``given="wei", surname="zhang"``. Western order is parsed with nameparser;
    generational suffixes are returned separately.
    """

    def clean(v: Any) -> str | None:
        if v is None:
            return None
        sv = str(v).strip()
        if sv in ("Na", "na"):  # 娜 / 纳 romanised: a name, unlike "N/A" or "NA"
            return sv
        if is_placeholder_text(sv):
            return None
        return sv or None

    try:
        return _normalize_name_cached(
            clean(full), clean(given), clean(middle), clean(surname), clean(suffix)
        )
    except Exception:  # pragma: no cover - defensive, parsing libraries on odd unicode
        return _EMPTY_NAME


# --------------------------------------------------------------------------- national IDs


@dataclass(frozen=True, slots=True)
class NationalId:
    value: str | None
    type: str | None
    valid: bool
    birth_date: str | None = None
    sex: str | None = None


_NO_ID = NationalId(None, None, False)


@lru_cache(maxsize=500_000)
def _normalize_nid_cached(raw: str, country: str | None) -> NationalId:
    from stdnum.cn import ric
    from stdnum.us import ssn

    compact = re.sub(r"[\s\-./]", "", unicodedata.normalize("NFKC", raw)).upper()
    if not compact or not compact.isalnum():
        return _NO_ID
    digits = re.sub(r"\D", "", compact)
    if _is_placeholder_number(compact) or _is_placeholder_number(digits):
        return _NO_ID
    c = (country or "").upper()
    if c in ("CN", "CHN") or (not c and len(compact) == 18 and compact[:17].isdigit()):
        if len(compact) == 18 and compact[:17].isdigit() and compact[17] in "0123456789X":
            try:
                # checksum + real birth date; the birth-place code is not required to be in
                # stdnum's (incomplete, historical) region table
                if ric.calc_check_digit(compact) != compact[17]:
                    raise ValueError("checksum")
                bd = ric.get_birth_date(compact)
                if not 1880 <= bd.year <= _dt.date.today().year:
                    raise ValueError("birth year")
                sex = "m" if int(compact[16]) % 2 == 1 else "f"
                return NationalId(compact, "cn_ric", True, bd.strftime("%Y%m%d"), sex)
            except Exception:
                return NationalId(compact, "cn_ric", False)
        return NationalId(compact, "other", False)
    if c in ("US", "USA") or (not c and len(digits) == 9 and raw.count("-") == 2):
        if len(digits) == 9 and digits == compact:
            return NationalId(digits, "us_ssn", bool(ssn.is_valid(digits)))
        return NationalId(compact, "other", False)
    return NationalId(compact, "other", False)


def normalize_national_id(value: Any, country: Any = None) -> NationalId:
    """Canonicalise a national ID; placeholders / test IDs give an empty :class:`NationalId`.

    ``country`` "CN" → Chinese resident ID (GB 11643, checksum + embedded birth date / sex);
    "US" → SSN (area/group/serial rules and stdnum's blacklist). Without a country the type
    is guessed from the shape (18 chars → CN, ``ddd-dd-dddd`` → US), else ``"other"``.
    """
    if value is None or is_placeholder_text(value):
        return _NO_ID
    try:
        return _normalize_nid_cached(str(value), None if country is None else str(country))
    except Exception:  # pragma: no cover
        return _NO_ID


# --------------------------------------------------------------------------- dates

_DATE_PATTERNS = (
    (re.compile(r"^(\d{4})(\d{2})(\d{2})$"), "ymd"),
    (re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"), "ymd"),
    (re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?$"), "ymd"),
    (re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$"), "xxy"),
)


def _valid_ymd(y: int, m: int, d: int) -> bool:
    try:
        _dt.date(y, m, d)
    except ValueError:
        return False
    return 1880 <= y <= 2100


@lru_cache(maxsize=200_000)
def _normalize_date_cached(s: str, dayfirst: bool) -> str | None:
    for pat, kind in _DATE_PATTERNS:
        mt = pat.match(s)
        if not mt:
            continue
        a, b, c = (int(x) for x in mt.groups())
        if kind == "ymd":
            y, m, d = a, b, c
        else:
            y = c
            m, d = (b, a) if dayfirst else (a, b)
            if not _valid_ymd(y, m, d) and _valid_ymd(y, d, m):
                m, d = d, m  # e.g. 25/12/1990 with dayfirst=False
        if _valid_ymd(y, m, d):
            if (y, m, d) in ((1900, 1, 1), (1901, 1, 1), (1970, 1, 1)):
                return None  # common "unknown" fill values
            return f"{y:04d}{m:02d}{d:02d}"
        return None
    return None


def normalize_date(value: Any, *, dayfirst: bool = False) -> str | None:
    """Parse a birth date to ``"YYYYMMDD"``; unparseable or placeholder → ``None``.

    Accepts ``date``/``datetime``, ``YYYYMMDD``, ``YYYY-MM-DD``, ``YYYY年M月D日`` and
    ``MM/DD/YYYY`` (``DD/MM/YYYY`` when ``dayfirst``; an impossible month is auto-swapped).
    Dates 1900-01-01, 1901-01-01 and 1970-01-01 are treated as placeholders.
    """
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        value = value.date()
    if isinstance(value, _dt.date):
        return _normalize_date_cached(value.strftime("%Y%m%d"), dayfirst)
    if is_placeholder_text(value):
        return None
    return _normalize_date_cached(unicodedata.normalize("NFKC", str(value)).strip(), dayfirst)


def swap_day_month(dob: str | None) -> str | None:
    """The date with day and month exchanged, if that is a different valid date."""
    if not dob or len(dob) != 8 or not dob.isdigit():
        return None
    y, m, d = int(dob[:4]), int(dob[4:6]), int(dob[6:])
    if m == d or not _valid_ymd(y, d, m):
        return None
    return f"{y:04d}{d:02d}{m:02d}"


# --------------------------------------------------------------------------- addresses

_ADDR_ABBREV = {
    "st": "street",
    "str": "street",
    "rd": "road",
    "ave": "avenue",
    "av": "avenue",
    "blvd": "boulevard",
    "dr": "drive",
    "ln": "lane",
    "ct": "court",
    "crt": "court",
    "pl": "place",
    "sq": "square",
    "hwy": "highway",
    "pkwy": "parkway",
    "cres": "crescent",
    "cct": "circuit",
    "tce": "terrace",
    "cl": "close",
    "apt": "apartment",
    "ste": "suite",
    "fl": "floor",
    "n": "north",
    "s": "south",
    "e": "east",
    "w": "west",
    "ne": "northeast",
    "nw": "northwest",
    "se": "southeast",
    "sw": "southwest",
    "mt": "mount",
    "po": "po",
}
_ADDR_DROP = {"unit", "apartment", "suite", "#", "no", "the", "of"}
_CN_ADDR_SPLIT = re.compile(
    r"([\u3400-\u9fff]+?(?:省|自治区|市|区|县|镇|乡|村|街道|路|街|大道|巷|弄|号|栋|单元|室|楼))"
)


@lru_cache(maxsize=500_000)
def _normalize_address_cached(s: str) -> tuple[str, ...]:
    s = _fold(s)
    tokens: list[str] = []
    for chunk in re.split(r"[\s,;:/\\()\[\]{}\"'`]+", s):
        if not chunk:
            continue
        if _HAN_RE.search(chunk):
            # Chinese: split on administrative / street / number suffix characters
            for piece in _CN_ADDR_SPLIT.split(chunk):
                piece = piece.strip()
                if not piece:
                    continue
                num = re.fullmatch(r"(\d+)(?:号|栋|单元|室|楼)", piece)
                tokens.append(num.group(1) if num else re.sub(r"[^\w]", "", piece))
            continue
        for tok in re.split(r"[.\-#]+", chunk):
            tok = _NON_ALNUM_RE.sub("", tok)
            if not tok:
                continue
            tok = _ADDR_ABBREV.get(tok, tok)
            if tok in _ADDR_DROP:
                continue
            tokens.append(tok)
    return tuple(dict.fromkeys(t for t in tokens if t))  # distinct, first-seen order


def normalize_address(value: Any) -> tuple[str, ...]:
    """Address → tuple of normalised tokens (case/punctuation folded, St→street, Rd→road …;
    Chinese addresses split into 省/市/区/路/号 … units, "88号" → "88")."""
    if value is None or is_placeholder_text(value):
        return ()
    try:
        return _normalize_address_cached(str(value))
    except Exception:  # pragma: no cover
        return ()


def _normalize_postcode(value: Any) -> str | None:
    if value is None or is_placeholder_text(value):
        return None
    s = re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", str(value))).upper()
    if not s.isalnum() or (s.isdigit() and len(set(s)) == 1 and len(s) > 2):
        return None
    return s


# --------------------------------------------------------------------------- phones


def _fast_e164(s: str, digits: str, region: str) -> str | None:
    """Common NANP / mainland-China mobile shapes without phonenumbers' full parser
    (same result as phonenumbers for these shapes; anything else goes to phonenumbers)."""
    plus = s.lstrip().startswith("+")
    if (plus or region == "US") and len(digits) == 11 and digits[0] == "1" and digits[1] in (
        "23456789"
    ) and digits[4] in "23456789":
        return "+" + digits
    if not plus and region == "US" and len(digits) == 10 and digits[0] in "23456789" and (
        digits[3] in "23456789"
    ):
        return "+1" + digits
    if plus and len(digits) == 13 and digits.startswith("861") and digits[3] in "3456789":
        return "+" + digits
    if not plus and region == "CN" and len(digits) == 11 and digits[0] == "1" and (
        digits[1] in "3456789"
    ):
        return "+86" + digits
    return None


@lru_cache(maxsize=500_000)
def _normalize_phone_cached(s: str, region: str) -> str | None:
    import phonenumbers

    digits = re.sub(r"\D", "", s)
    if len(digits) < 6 or _is_placeholder_number(digits) or _is_placeholder_number(digits[-7:]):
        return None
    fast = _fast_e164(s, digits, region)
    if fast:
        return fast
    try:
        num = phonenumbers.parse(s, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(num):
        return None
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


def normalize_phone(value: Any, region: str = "US") -> str | None:
    """Phone → E.164 (``default region`` for numbers without a country code)."""
    if value is None or is_placeholder_text(value):
        return None
    try:
        return _normalize_phone_cached(str(value), region)
    except Exception:  # pragma: no cover
        return None


# --------------------------------------------------------------------------- sex

_SEX = {"m": "m", "male": "m", "man": "m", "男": "m", "f": "f", "female": "f", "woman": "f",
        "女": "f", "w": "f"}


def _normalize_sex(value: Any) -> str | None:
    if value is None:
        return None
    return _SEX.get(str(value).strip().lower())


# --------------------------------------------------------------------------- records


def normalize_record(
    record: dict[str, Any], *, default_region: str = "US", dayfirst: bool = False
) -> dict[str, Any]:
    """Normalise one record (online path). Same output as a row of :func:`normalize_records`."""
    get = record.get
    name = normalize_name(
        get("full_name"), get("given_name"), get("surname"), get("middle_name"),
        get("name_suffix"),
    )
    nid = normalize_national_id(get("national_id"), get("id_country"))
    dob = normalize_date(get("dob"), dayfirst=dayfirst)
    sex = _normalize_sex(get("sex"))
    conflict = bool(
        nid.valid
        and (
            (nid.birth_date and dob and nid.birth_date != dob)
            or (nid.sex and sex and nid.sex != sex)
        )
    )
    if dob is None and nid.birth_date:
        dob = nid.birth_date
    out = {
        "record_id": get("record_id"),
        "given": name.given,
        "given_full": name.given_full,
        "surname": name.surname,
        "suffix": name.suffix,
        "name_key": name.name_key,
        "script": name.script,
        "dob": dob,
        "dob_year": int(dob[:4]) if dob else None,
        "sex": sex or nid.sex,
        "nid": nid.value,
        "nid_type": nid.type,
        "nid_valid": nid.valid,
        "id_dob": nid.birth_date,
        "id_sex": nid.sex,
        "id_conflict": conflict,
        "addr_tokens": list(normalize_address(get("address"))),
        "postcode": _normalize_postcode(get("postcode")),
        "phone": normalize_phone(get("phone"), default_region),
    }
    return out


def _col(df: pl.DataFrame, name: str) -> pl.Expr:
    if name in df.columns:
        return pl.col(name).cast(pl.String)
    return pl.lit(None, dtype=pl.String).alias(name)


def raw_columns(df: pl.DataFrame) -> pl.DataFrame:
    """``record_id`` + every canonical input column as text (null where a column is absent)."""
    if "record_id" not in df.columns:
        raise ValueError("records need a 'record_id' column")
    return df.select([pl.col("record_id")] + [_col(df, c).alias(c) for c in INPUT_COLUMNS])


def map_rows(fn, values: list[tuple], workers: int = 1) -> list:
    """``fn(*value)`` for each value; large lists spread over forked processes."""
    if workers > 1 and len(values) >= 20_000:
        return _parallel_map(fn, values, workers)
    return [fn(*v) for v in values]


def _map_unique(
    df: pl.DataFrame, inputs: list[str], fn, out_schema: dict[str, pl.DataType], workers: int
) -> pl.DataFrame:
    """Apply ``fn(*values) -> tuple`` once per distinct combination of ``inputs``."""
    uniq = df.select(inputs).unique()
    rows = map_rows(fn, list(uniq.iter_rows()), workers)
    tmp = {f"__out_{k}": v for k, v in out_schema.items()}
    res = pl.DataFrame(rows, schema=tmp, orient="row")
    mapped = pl.concat([uniq, res], how="horizontal")
    joined = df.select(inputs).join(
        mapped, on=inputs, how="left", nulls_equal=True, maintain_order="left"
    )
    return joined.select([pl.col(k).alias(k[len("__out_"):]) for k in tmp])


_FN = None


def _apply_chunk(chunk):
    return [_FN(*r) for r in chunk]


def _parallel_map(fn, values: list, workers: int) -> list:
    """Map over distinct values in forked worker processes (fork shares ``fn``)."""
    import multiprocessing as mp

    global _FN  # the forked children inherit it; a lambda could not be pickled to them
    _FN = fn
    size = max(1, len(values) // (workers * 4))
    chunks = [values[i:i + size] for i in range(0, len(values), size)]
    with mp.get_context("fork").Pool(workers) as pool:
        parts = pool.map(_apply_chunk, chunks)
    return [r for part in parts for r in part]


def name_row(f, g, m, s, x) -> tuple:
    """:func:`normalize_name` as a tuple in the order of ``NAME_OUTPUTS``."""
    n = normalize_name(f, g, s, m, x)
    return (n.given, n.given_full, n.surname, n.suffix, n.name_key, n.script)


def nid_row(v, c) -> tuple:
    """:func:`normalize_national_id` as a tuple in the order of ``NID_OUTPUTS``."""
    n = normalize_national_id(v, c)
    return (n.value, n.type, n.valid, n.birth_date, n.sex)


NAME_INPUTS = ["full_name", "given_name", "middle_name", "surname", "name_suffix"]
NAME_OUTPUTS = {k: NORMALIZED_COLUMNS[k]
                for k in ("given", "given_full", "surname", "suffix", "name_key", "script")}
NID_INPUTS = ["national_id", "id_country"]
NID_OUTPUTS = {"nid": pl.String(), "nid_type": pl.String(), "nid_valid": pl.Boolean(),
               "id_dob": pl.String(), "id_sex": pl.String()}


def assemble(raw: pl.DataFrame, df: pl.DataFrame, parts: list[pl.DataFrame]) -> pl.DataFrame:
    """The output frame from per-attribute columns (names, nid, dob_n, addr_tokens, phone_n,
    postcode_n, sex_n): cross-checks of the ID against the record, then the column order."""
    out = pl.concat([raw.select("record_id"), *parts], how="horizontal")
    conflict = (
        pl.col("nid_valid").fill_null(False)
        & (
            (pl.col("id_dob").is_not_null() & pl.col("dob_n").is_not_null()
             & (pl.col("id_dob") != pl.col("dob_n")))
            | (pl.col("id_sex").is_not_null() & pl.col("sex_n").is_not_null()
               & (pl.col("id_sex") != pl.col("sex_n")))
        )
    ).fill_null(False)
    out = out.with_columns(
        id_conflict=conflict,
        dob=pl.coalesce("dob_n", "id_dob"),
        sex=pl.coalesce("sex_n", "id_sex"),
        postcode=pl.col("postcode_n"),
        phone=pl.col("phone_n"),
    ).with_columns(dob_year=pl.col("dob").str.slice(0, 4).cast(pl.Int32, strict=False))
    extra = [c for c in df.columns if c not in INPUT_COLUMNS and c != "record_id"
             and c not in NORMALIZED_COLUMNS]
    out = out.select(["record_id", *NORMALIZED_COLUMNS])
    if extra:
        out = pl.concat([out, df.select(extra)], how="horizontal")
    return out


def normalize_records(
    df: pl.DataFrame, *, default_region: str = "US", dayfirst: bool = False, workers: int = 1
) -> pl.DataFrame:
    """Normalise a frame of raw records (canonical input columns, see module doc).

    Returns ``record_id`` + :data:`NORMALIZED_COLUMNS` + any other input columns that are not
    canonical inputs (e.g. ``source``), row order preserved. Columnar
    (:mod:`openbureau.identity.normalize_columns`); the same frame as
    :func:`normalize_records_reference`. ``workers`` > 1 spreads the values left to the
    per-value functions over forked processes (large frames only).
    """
    from openbureau.identity.normalize_columns import normalize_frame

    return normalize_frame(df, default_region=default_region, dayfirst=dayfirst,
                           workers=max(1, int(workers)))


def normalize_records_reference(
    df: pl.DataFrame, *, default_region: str = "US", dayfirst: bool = False, workers: int = 1
) -> pl.DataFrame:
    """:func:`normalize_records` by definition: the per-value functions above, once per
    distinct value. The columnar implementation must return the same frame; tests and
    ``bench/identity_normalize.py`` compare the two."""
    raw = raw_columns(df)
    workers = max(1, int(workers))
    names = _map_unique(raw, NAME_INPUTS, name_row, NAME_OUTPUTS, workers)
    nids = _map_unique(raw, NID_INPUTS, nid_row, NID_OUTPUTS, workers)
    dobs = _map_unique(raw, ["dob"], lambda v: (normalize_date(v, dayfirst=dayfirst),),
                       {"dob_n": pl.String()}, workers)
    addrs = _map_unique(raw, ["address"], lambda v: (list(normalize_address(v)),),
                        {"addr_tokens": pl.List(pl.String())}, workers)
    phones = _map_unique(raw, ["phone"], lambda v: (normalize_phone(v, default_region),),
                         {"phone_n": pl.String()}, workers)
    posts = _map_unique(raw, ["postcode"], lambda v: (_normalize_postcode(v),),
                        {"postcode_n": pl.String()}, workers)
    sexes = _map_unique(raw, ["sex"], lambda v: (_normalize_sex(v),), {"sex_n": pl.String()},
                        workers)
    return assemble(raw, df, [names, nids, dobs, addrs, phones, posts, sexes])
