"""The columnar normalize_records returns the frame of the per-value definition, exactly.

Reference: normalize_records_reference (each per-value function once per distinct value, the
implementation the columnar one replaced) and, row by row, normalize_record (the online path).
Small generated frames go through the expressions with ``columnar_from=0``: normalize_records
itself leaves attributes with few distinct values to the per-value functions.
"""

from __future__ import annotations

import datetime as dt
import random

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from stdnum.cn import ric

from openbureau.identity.normalize import (
    INPUT_COLUMNS,
    NORMALIZED_COLUMNS,
    normalize_phone,
    normalize_record,
    normalize_records,
    normalize_records_reference,
)
from openbureau.identity.normalize_columns import COLUMNAR_FROM, normalize_frame
from openbureau.identity.synth import generate_population


def assert_same(df: pl.DataFrame, *, region: str = "US", dayfirst: bool = False) -> pl.DataFrame:
    ref = normalize_records_reference(df, default_region=region, dayfirst=dayfirst)
    columnar = normalize_frame(
        df, default_region=region, dayfirst=dayfirst, workers=1, columnar_from=0
    )
    assert_frame_equal(columnar, ref)
    new = normalize_records(df, default_region=region, dayfirst=dayfirst)
    assert_frame_equal(new, ref)
    return new


def assert_rows_match_record_path(
    df: pl.DataFrame, frame: pl.DataFrame, region: str, dayfirst: bool
) -> None:
    for row_in, row_out in zip(df.iter_rows(named=True), frame.iter_rows(named=True), strict=True):
        one = normalize_record(row_in, default_region=region, dayfirst=dayfirst)
        assert {k: row_out[k] for k in one} == one, row_in


# --------------------------------------------------------------------------- generators
# Each field draws mostly from shapes near the expressions' edges (and the per-value
# functions' special cases); a fraction is arbitrary text.


def words(text: str) -> list[str]:
    return text.split()


LATIN_WORDS = words(
    "John JOHN john Mary-Ann O'Neil O'NEIL Smith SMITH de la Cruz van der Berg Mac Jr Jr. JR "
    "Sr III iv 2nd V Dr. Mr MRS prof FNU LNU Unknown test Na NA na N/A Lyu LV Nyu Xiao Ming "
    "Zhang ZHANG Wei J. A AB Al el y e and St x -- ? 0 1st A1 Li LI Wu WU O' Ann-Marie "
    "José Müller ØSTERGÅRD Łukasz straße Æsir ﬁne Ｊｏｈｎ"
)
HAN_WORDS = words("张伟 张 伟 欧阳娜娜 欧阳 吕小明 王伟伟 李 娜 司马光 无 未知 先生 张·伟 㐀 鿿")
# fmt: off
SEPARATORS = [" ", " ", " ", ", ", ",", "  ", "\t", " ,", "\u00a0", "\u3000", "-", ", ,"]
# fmt: on


NAME_PARTS = words("Li Wu Ng O Xu Zhang Wei Xiaoming John Smith Mary de van Jr III Mr Lyu J. Al")
CASES = [str.upper, str.title, str.lower, str]


@st.composite
def styled_name(draw) -> str:
    """Written like "ZHANG Wei", "Wei Zhang", "Smith, John Jr": words in upper, title or lower
    case, the first one maybe followed by a comma."""
    parts = draw(st.lists(st.sampled_from(NAME_PARTS), min_size=1, max_size=4))
    text = [draw(st.sampled_from(CASES))(p) for p in parts]
    if len(text) > 1 and draw(st.integers(0, 3)) == 0:
        text[0] += ","
    return " ".join(text)


@st.composite
def name_text(draw, han: bool = True) -> str:
    if draw(st.booleans()):
        return draw(styled_name())
    pool = LATIN_WORDS + HAN_WORDS if han and draw(st.booleans()) else LATIN_WORDS
    words_ = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=4))
    out = words_[0]
    for w in words_[1:]:
        out += draw(st.sampled_from(SEPARATORS)) + w
    pad = draw(st.sampled_from(["", "", "", " ", "  ", "\t", "\n"]))
    return pad + out + draw(st.sampled_from(["", "", "", " ", ","]))


def noise(max_size: int = 20) -> st.SearchStrategy[str]:
    return st.text(max_size=max_size)


def printable(max_size: int = 20) -> st.SearchStrategy[str]:
    return st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=max_size)


def mostly(strategy: st.SearchStrategy, *missing: str) -> st.SearchStrategy:
    """The strategy three times in four, else null or a placeholder."""
    gap = st.one_of(st.none(), st.sampled_from(["", " ", "N/A", "null", *missing]))
    return st.one_of(strategy, strategy, strategy, gap)


NAME_SUFFIXES = ["Jr", "jr.", "SR", "Senior", "III", "2nd", "V", "J R", "Esq", "Jnr", "Ⅲ"]


@st.composite
def name_fields(draw) -> dict:
    """A name as furnishers send it: one full name, or parts, or both, or junk."""
    kind = draw(st.integers(0, 4))
    suffix = {"name_suffix": draw(st.one_of(st.none(), st.sampled_from(NAME_SUFFIXES)))}
    if kind <= 1:
        return {"full_name": draw(name_text()), **suffix}
    if kind == 2:
        return {
            "given_name": draw(mostly(name_text(han=False), "FNU")),
            "middle_name": draw(st.one_of(st.none(), name_text(han=False))),
            "surname": draw(mostly(name_text(), "LNU")),
            **suffix,
        }
    if kind == 3:
        return {"full_name": draw(name_text()), "given_name": draw(name_text()), **suffix}
    return {"full_name": draw(st.one_of(noise(), printable())), "surname": draw(noise(8))}


# fmt: off
SPECIAL_DATES = [(1900, 1, 1), (1901, 1, 1), (1970, 1, 1), (2000, 2, 29), (1900, 2, 29),
                 (1999, 2, 29), (1990, 12, 25), (1990, 25, 12), (1990, 4, 31), (1879, 12, 31),
                 (1880, 1, 1), (2100, 12, 31), (2101, 1, 1), (1990, 1, 2), (1990, 2, 1),
                 (1990, 13, 13), (1990, 0, 5), (1990, 5, 0), (1984, 6, 6)]
# fmt: on


@st.composite
def ymd(draw) -> tuple[int, int, int]:
    if draw(st.booleans()):
        return draw(st.sampled_from(SPECIAL_DATES))
    return draw(st.integers(1870, 2110)), draw(st.integers(0, 14)), draw(st.integers(0, 32))


# fmt: off
DATE_FORMATS = ["{y:04d}{m:02d}{d:02d}", "{y:04d}-{m:02d}-{d:02d}", "{y}/{m}/{d}", "{y}.{m}.{d}",
                "{y}年{m}月{d}日", "{y} 年 {m} 月 {d}", "{m:02d}/{d:02d}/{y}", "{d}.{m}.{y}",
                "{m}-{d}-{y:04d}", " {y:04d}-{m:02d}-{d:02d} ", "{y:04d}-{m:02d}-{d:02d}\t",
                "{y:04d}{m:02d}{d:02d}T00", "{y:05d}{m:02d}{d:02d}", "{y:04d}-{m:03d}-{d:02d}"]
# fmt: on


@st.composite
def date_text(draw) -> str:
    y, m, d = draw(ymd())
    text = draw(st.sampled_from(DATE_FORMATS)).format(y=y, m=m, d=d)
    if draw(st.integers(0, 9)) == 0:
        text = text.translate({ord(c): 0xFF10 + int(c) for c in "0123456789"})  # fullwidth
    return text


def ric_number(area: str, birth: str, seq: int) -> str:
    body = f"{area}{birth}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


US_COUNTRY = st.sampled_from(["US", "USA", "usa", "Us", None, "", " US"])
CN_COUNTRY = st.sampled_from(["CN", "CHN", "cn", None, "", "ＣＮ"])
ANY_COUNTRY = st.sampled_from(["CN", "US", "AU", "", "??", None])


@st.composite
def ssn(draw) -> tuple[str, str | None]:
    area = draw(st.one_of(st.integers(0, 999), st.sampled_from([0, 78, 219, 457, 666, 899, 900])))
    group = draw(st.one_of(st.integers(1, 99), st.just(0)))
    serial = draw(st.one_of(st.integers(1, 9999), st.just(0)))
    digits = f"{area:03d}{group:02d}{serial:04d}"
    sep = draw(st.sampled_from(["-", "-", "", " ", ".", "--", "/", "x"]))
    return f"{digits[:3]}{sep}{digits[3:5]}{sep}{digits[5:]}", draw(US_COUNTRY)


@st.composite
def cn_id(draw) -> tuple[str, str | None]:
    y, m, d = draw(st.one_of(ymd(), st.sampled_from([(2099, 1, 1), (1, 1, 1), (0, 1, 1)])))
    area = draw(st.sampled_from(["110105", "310115", "999999", "000000"]))
    nid = ric_number(area, f"{y % 10000:04d}{m % 100:02d}{d % 100:02d}", draw(st.integers(0, 999)))
    how = draw(st.integers(0, 5))
    if how == 1:
        nid = nid[:-1] + draw(st.sampled_from("0123456789Xx"))
    elif how == 2:
        nid = nid.lower()
    elif how == 3:
        nid = f"{nid[:6]} {nid[6:14]}-{nid[14:]}"
    elif how == 4:
        nid = nid[:17]
    return nid, draw(CN_COUNTRY)


# fmt: off
ODD_IDS = ["000-00-0000", "123-45-6789", "111111111", "999-99-9999", "078-05-1120", "0000",
           "11010519491231002X", "11010519491231002x", "123456789012345678", "unknown", "ABC",
           "A1B2C3", "12345", "987654", "9876543210", "2345678", "1-2-3", "--", "ＡＢ１２３",
           "AAAAAA", "ZZ", "1A", "12-34-56789", "123-456-789"]
# fmt: on


@st.composite
def national_id(draw) -> tuple[str | None, str | None]:
    kind = draw(st.integers(0, 5))
    if kind <= 1:
        return draw(ssn())
    if kind <= 3:
        return draw(cn_id())
    if kind == 4:
        return draw(st.sampled_from(ODD_IDS)), draw(ANY_COUNTRY)
    value = draw(
        st.one_of(
            st.none(),
            printable(),
            noise(),
            st.text(st.sampled_from("0123456789-. X/"), max_size=20),
        )
    )
    return value, draw(ANY_COUNTRY)


# fmt: off
ADDRESS_WORDS = [
    "12", "4B", "#5", "Main", "MAIN", "St.", "St", "Str", "Rd", "Ave.", "Blvd", "Apt", "APT 4",
    "Suite", "Ste", "Unit", "No.", "the", "of", "N", "S.", "NE", "Mt", "PO", "Box", "O'Hare",
    "(rear)", "[x]", "{y}", "a/b", "semi;colon", "co:lon", "back\\slash", "`q`", '"dq"', "1-2",
    "a.b.c", "x#y", "-", ".", "under_score", "a&b", "Straße", "Café", "Ｍａｉｎ",
    "北京市朝阳区建国路88号", "上海市浦东新区世纪大道100号5栋3单元201室", "88号Tower",
    "广东省深圳市南山区", "科技园路717号", "5-2号", "a_b号", "12楼", "无", "不详",
    "新疆维吾尔自治区", "中山路", "路", "号", "㐀区", "Springfield,", "IL", "62701",
    "62701-1234", "北京市，朝阳区", "１２号",
]
# fmt: on


@st.composite
def address_text(draw) -> str:
    words = draw(st.lists(st.sampled_from(ADDRESS_WORDS), min_size=1, max_size=7))
    return "".join(
        w + draw(st.sampled_from([" ", " ", ", ", "", ",", "  ", "\t", "/"])) for w in words
    )


# fmt: off
PHONES = [
    "(415) 555-2671", "+1 415-555-2671", "4155552671", "14155552671", "+14155552671",
    "+86 138 0013 8000", "13800138000", "+8613800138000", "+44 20 7946 0958", "000-000-0000",
    "123-456-7890", "12", "abc", "1-800-FLOWERS", "+1 714 165 9748", "17141659748",
    "15270119429", "11234567890", "+1 (714) 165-9748", "+10123456789", "+1 714 165 9748 ext 5",
    "030 1234567", "+49 30 1234567", "0044 20 7946 0958", "1234567", "9876543210", "555-1234",
    "+1 415 555 2671 /2", "＋１ ４１５ ５５５ ２６７１", "+86 10 1234 5678", "010-12345678",
]
# fmt: on


def digits(n: int) -> st.SearchStrategy[str]:
    return st.text(st.sampled_from("0123456789"), min_size=n, max_size=n)


@st.composite
def phone_text(draw) -> str:
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return draw(st.sampled_from(PHONES))
    if kind == 1:  # NANP / Chinese shapes, every digit position free
        prefix = draw(st.sampled_from(["", "1", "+1", "+1 ", "1-", "+86 ", "86", "+"]))
        groups = [draw(digits(3)), draw(digits(3)), draw(digits(4))]
        if prefix.startswith("+86") or prefix == "86":
            groups = ["1" + draw(digits(2)), draw(digits(4)), draw(digits(4))]
        sep = draw(st.sampled_from(["", " ", "-", "."]))
        if draw(st.booleans()):
            return f"{prefix}({groups[0]}) {groups[1]}{sep}{groups[2]}"
        return prefix + sep.join(groups)
    first = draw(st.sampled_from(["", "1", "1", "86", "0", "2"]))
    number = first + draw(st.text(st.sampled_from("0123456789"), min_size=4, max_size=12))
    if kind == 2:
        return number
    out = draw(st.sampled_from(["", "+", "+", " +", "("]))
    for ch in number:
        out += draw(st.sampled_from(["", "", "", " ", "-", ".", "(", ")", "  "])) + ch
    if kind == 4:
        out += draw(st.sampled_from(["x", "a", " ext 12", "/", "#", " "]))
    return out


# fmt: off
POSTCODES = ["62701", "62701-1234", "SW1A 1AA", "000", "00", "1111", "１２３", "100-000", "a b",
             "--1", "ab_c", "0", "222", "99 99", "A-A"]
SEXES = ["M", "m", "F", " f ", "Male", "FEMALE", "woman", "w", "W", "男", "女", " 女 ", "x",
         "U", "\tm", "ｍ", "man "]
# fmt: on


@st.composite
def record(draw, rid: int) -> dict:
    nid, country = draw(national_id())
    return {
        "record_id": rid,
        **draw(name_fields()),
        "dob": draw(mostly(st.one_of(date_text(), date_text(), printable(10), noise(10)))),
        "sex": draw(st.one_of(st.none(), st.sampled_from(SEXES))),
        "national_id": nid,
        "id_country": country,
        "address": draw(mostly(st.one_of(address_text(), address_text(), noise(30)))),
        "postcode": draw(mostly(st.one_of(st.sampled_from(POSTCODES), printable(8), noise(8)))),
        "phone": draw(mostly(st.one_of(phone_text(), phone_text(), noise(16)))),
    }


@st.composite
def records(draw) -> list[dict]:
    n = draw(st.integers(1, 20))
    rows = [draw(record(i)) for i in range(n)]
    # repeated values: the distinct-value mapping must put each result on every row
    if n > 1 and draw(st.booleans()):
        rows.append({**draw(st.sampled_from(rows)), "record_id": n})
    return rows


SCHEMA = {"record_id": pl.Int64, **{c: pl.String for c in INPUT_COLUMNS}}


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(rows=records(), region=st.sampled_from(["US", "CN"]), dayfirst=st.booleans())
def test_columnar_equals_reference(rows, region, dayfirst):
    df = pl.DataFrame(rows, schema=SCHEMA)
    frame = assert_same(df, region=region, dayfirst=dayfirst)
    assert_rows_match_record_path(df, frame, region, dayfirst)


# --------------------------------------------------------------------------- populations


@pytest.mark.parametrize("seed", [1, 2])
def test_generated_population(seed):
    frame = assert_same(generate_population(3000, seed=seed))
    # the population exercises both scripts and both ID types
    assert set(frame["script"].drop_nulls()) == {"latin", "han"}
    assert set(frame["nid_type"].drop_nulls()) == {"cn_ric", "us_ssn"}
    assert frame["nid_valid"].any() and frame["id_conflict"].dtype == pl.Boolean


def test_large_frames_take_the_expressions(population):
    # the fixture has more distinct values of each attribute but sex than COLUMNAR_FROM
    raw = population.select("full_name", "national_id", "dob", "address", "phone")
    assert min(raw[c].n_unique() for c in raw.columns) > COLUMNAR_FROM
    assert_same(population)


def test_population_with_workers(population):
    # more than 20,000 distinct values would fork; this one checks the argument is honoured
    assert_frame_equal(
        normalize_records(population, workers=2), normalize_records_reference(population)
    )


def test_population_in_chinese_jurisdiction(population):
    assert_same(population, region="CN", dayfirst=True)


# --------------------------------------------------------------------------- frame shapes


def test_empty_frame_and_absent_columns():
    assert_same(pl.DataFrame(schema=SCHEMA))
    out = assert_same(pl.DataFrame({"record_id": [1, 2], "full_name": ["Ann Lee", None]}))
    assert out["addr_tokens"].to_list() == [[], []]
    assert list(out.columns) == ["record_id", *NORMALIZED_COLUMNS]


def test_typed_columns_and_extra_columns_are_kept():
    df = pl.DataFrame(
        {
            "record_id": ["a", "b", "c"],
            "dob": [dt.date(1990, 1, 2), None, dt.date(1970, 1, 1)],
            "national_id": [536904399, 111111111, None],
            "postcode": [62701, 0, None],
            "source": ["f1", "f2", "f3"],
        }
    )
    out = assert_same(df)
    assert out["dob"].to_list() == ["19900102", None, None]
    assert out["source"].to_list() == ["f1", "f2", "f3"]


def test_every_value_left_to_the_per_value_functions():
    # Han names (pypinyin), particles (nameparser), other phones (phonenumbers), Unicode
    df = pl.DataFrame(
        {
            "record_id": [1, 2, 3, 4],
            "full_name": ["欧阳娜娜", "Maria de la Cruz", "José Müller", "ZHANG 伟"],
            "dob": ["１９９０-01-02", "1990-01-02", "\t1990-01-02", None],
            "national_id": ["１１０１０５", "536-90-4399", "536\t90\t4399", None],
            "address": ["Straße 5", "5 Main St", "北京市朝阳区建国路８８号", None],
            "phone": ["+44 20 7946 0958", "030 1234567", "1-800-FLOWERS", "(415) 555-2671"],
            "postcode": ["１２３", "SW1A 1AA", None, "62701"],
            "sex": ["女", "M", " f", "ｍ"],
        }
    )
    out = assert_same(df)
    assert out["surname"].to_list() == ["ouyang", "delacruz", "muller", "zhang"]


def test_phone_shapes_settled_without_phonenumbers_agree_with_it():
    # shapes the expressions settle beyond _fast_e164: eleven digits "1 [2-9]..." bare
    # (US frames) or after "+" with spaces, dots, dashes or brackets
    phones = [
        "17141659748",
        "15270119429",
        "+1 714 165 9748",
        " +1 (714) 165-9748",
        "+1.714.165.9748",
        "+1 415 555 2671",
        "11234567890",
        "+1 (012) 345-6789",
    ]
    for region in ("US", "CN", "DE"):
        df = pl.DataFrame({"record_id": range(len(phones)), "phone": phones})
        out = assert_same(df, region=region)
        assert out["phone"].to_list() == [normalize_phone(p, region) for p in phones]


# --------------------------------------------------------------------------- bulk grids
# Many values of one attribute in one frame, drawn with a fixed seed around the digit
# positions, lengths and separators the expressions test: conditions too narrow for the
# property test's few records to meet reliably.


def assert_column_same(column: str, values: list, **kw) -> None:
    df = pl.DataFrame(
        {"record_id": range(len(values)), column: values}, schema_overrides={column: pl.String}
    )
    assert_same(df, **kw)


def scatter(rng: random.Random, text: str, marks: str) -> str:
    return "".join(c + (rng.choice(marks) if rng.random() < 0.3 else "") for c in text)


def test_bulk_phones():
    rng = random.Random(1)
    values = []
    for _ in range(20_000):
        number = "".join(rng.choice("011123456789") for _ in range(rng.randint(5, 14)))
        shape = rng.randrange(4)
        if shape == 1:
            number = "+" + number
        elif shape == 2:
            number = rng.choice(["", "+", " +", "("]) + scatter(rng, number, " -.()")
        elif shape == 3:
            number = scatter(rng, number, " -") + rng.choice(["x", "a", "/", " ", "#1"])
        values.append(number)
    for region in ("US", "CN"):
        assert_column_same("phone", values, region=region)


def test_bulk_dates():
    rng = random.Random(2)
    years = [1879, 1880, 1900, 1901, 1970, 1996, 1999, 2000, 2024, 2100, 2101]
    values = [
        rng.choice(DATE_FORMATS).format(y=y, m=m, d=d)
        for y in years
        for m in range(14)
        for d in range(33)
        for _ in range(2)
    ]
    for dayfirst in (False, True):
        assert_column_same("dob", values, dayfirst=dayfirst)


def test_bulk_national_ids():
    rng = random.Random(3)
    ids, countries = [], []
    for area in range(1000):
        for group, serial in ((0, 1), (1, 0), (rng.randint(1, 99), rng.randint(1, 9999))):
            sep = rng.choice(["-", "-", "", " ", "--", "."])
            ids.append(f"{area:03d}{sep}{group:02d}{sep}{serial:04d}")
            countries.append(rng.choice(["US", "USA", "", None, "CN"]))
    for year in (0, 1, 1879, 1880, 1900, 1996, 2000, 2024, dt.date.today().year + 1):
        for month in range(14):
            for day in (0, 1, 28, 29, 30, 31, 32):
                nid = ric_number("110105", f"{year:04d}{month:02d}{day:02d}", rng.randint(0, 999))
                if rng.random() < 0.3:
                    nid = nid[:-1] + rng.choice("0123456789Xx")
                ids.append(nid)
                countries.append(rng.choice(["CN", "CHN", "", None, "US"]))
    df = pl.DataFrame({"record_id": range(len(ids)), "national_id": ids, "id_country": countries})
    assert_same(df)


def test_bulk_names():
    rng = random.Random(4)
    pool = NAME_PARTS + LATIN_WORDS
    full, given, surname = [], [], []
    for _ in range(8_000):
        parts = [rng.choice(CASES)(rng.choice(pool)) for _ in range(rng.randint(1, 4))]
        if len(parts) > 1 and rng.random() < 0.25:
            parts[0] += ","
        text = " ".join(parts)
        if rng.random() < 0.6:
            full.append(text)
            given.append(None)
            surname.append(None)
        else:
            full.append(None)
            given.append(rng.choice([None, text, rng.choice(pool)]))
            surname.append(" ".join(parts[::-1]))
    df = pl.DataFrame(
        {"record_id": range(len(full)), "full_name": full, "given_name": given, "surname": surname}
    )
    assert_same(df)


def test_bulk_han_full_names():
    """Han full names take their own expressions: compound surnames at the length edge,
    one-character names, placeholders, the range edges, and parts that clean to nothing."""
    rng = random.Random(5)
    surnames = ["张", "王", "李", "吕", "欧阳", "司马", "诸葛", "㐀", "鿿", "豈"]
    givens = ["", "伟", "娜娜", "小明", "阳", "光", "无", "乐", "行"]
    full, given, surname, suffix = [], [], [], []
    for _ in range(6_000):
        text = rng.choice(surnames) + rng.choice(givens)
        full.append(rng.choice([text, text, text, f" {text} ", f"{text}\t", "无", "欧阳", "张 伟"]))
        given.append(rng.choice([None, None, None, "", "N/A", "伟", "Wei"]))
        surname.append(rng.choice([None, None, None, " ", "unknown", "张"]))
        suffix.append(rng.choice([None, None, None, "Jr", "N/A", "Ⅲ"]))
    df = pl.DataFrame(
        {
            "record_id": range(len(full)),
            "full_name": full,
            "given_name": given,
            "surname": surname,
            "name_suffix": suffix,
        }
    )
    assert_same(df)


def test_bulk_addresses_and_postcodes():
    rng = random.Random(5)
    addresses = [
        "".join(w + rng.choice([" ", ", ", "", ",", "/"]) for w in rng.sample(ADDRESS_WORDS, 5))
        for _ in range(8_000)
    ]
    assert_column_same("address", addresses)
    postcodes = [
        scatter(rng, rng.choice(POSTCODES + ["12345", "1111", "A1B 2C3"]), " -_")
        for _ in range(3_000)
    ]
    assert_column_same("postcode", postcodes)
