"""The columnar normalize_records returns the frame of the per-value definition, exactly.

Reference: normalize_records_reference (each per-value function once per distinct value, the
implementation the columnar one replaced) and, row by row, normalize_record (the online path).
Small generated frames go through the expressions with ``columnar_from=0``: normalize_records
itself leaves attributes with few distinct values to the per-value functions.
"""

from __future__ import annotations

import datetime as dt

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

LATIN_WORDS = [
    "John",
    "JOHN",
    "john",
    "Mary-Ann",
    "O'Neil",
    "O'NEIL",
    "Smith",
    "SMITH",
    "de",
    "la",
    "Cruz",
    "van",
    "der",
    "Berg",
    "Mac",
    "Jr",
    "Jr.",
    "JR",
    "Sr",
    "III",
    "iv",
    "2nd",
    "V",
    "Dr.",
    "Mr",
    "MRS",
    "prof",
    "FNU",
    "LNU",
    "Unknown",
    "test",
    "Na",
    "NA",
    "na",
    "N/A",
    "Lyu",
    "LV",
    "Nyu",
    "Xiao",
    "Ming",
    "Zhang",
    "ZHANG",
    "Wei",
    "J.",
    "A",
    "AB",
    "Al",
    "el",
    "y",
    "e",
    "and",
    "St",
    "x",
    "--",
    "?",
    "0",
    "1st",
    "A1",
    "José",
    "Müller",
    "ØSTERGÅRD",
    "Łukasz",
    "straße",
    "Æsir",
    "ﬁne",
    "Ｊｏｈｎ",
]
HAN_WORDS = [
    "张伟",
    "张",
    "伟",
    "欧阳娜娜",
    "欧阳",
    "吕小明",
    "王伟伟",
    "李",
    "娜",
    "司马光",
    "无",
    "未知",
    "先生",
    "张 伟",
    "张·伟",
    "㐀",
    "鿿",
]
SEPARATORS = [" ", " ", " ", ", ", ",", "  ", "\t", " ,", "\u00a0", "\u3000", "-"]


@st.composite
def name_text(draw) -> str:
    words = draw(st.lists(st.sampled_from(LATIN_WORDS + HAN_WORDS), min_size=1, max_size=4))
    out = words[0]
    for w in words[1:]:
        out += draw(st.sampled_from(SEPARATORS)) + w
    pad = draw(st.sampled_from(["", "", " ", "  ", "\t", "\n"]))
    return pad + out + draw(st.sampled_from(["", "", " ", ","]))


def noise(max_size: int = 20) -> st.SearchStrategy[str]:
    return st.text(max_size=max_size)


def printable(max_size: int = 20) -> st.SearchStrategy[str]:
    return st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=max_size)


def maybe(strategy: st.SearchStrategy, *extra: str) -> st.SearchStrategy:
    return st.one_of(
        st.none(),
        st.sampled_from(["", " ", "N/A", "null", *extra]),
        strategy,
    )


@st.composite
def ymd(draw) -> tuple[int, int, int]:
    y = draw(
        st.sampled_from(
            [1879, 1880, 1900, 1901, 1950, 1970, 1984, 1990, 2000, 2024, 2100, 2101, 2999, 0, 99]
        )
    )
    return y, draw(st.integers(0, 14)), draw(st.integers(0, 32))


@st.composite
def date_text(draw) -> str:
    y, m, d = draw(ymd())
    fmt = draw(
        st.sampled_from(
            [
                "{y:04d}{m:02d}{d:02d}",
                "{y:04d}-{m:02d}-{d:02d}",
                "{y}/{m}/{d}",
                "{y}.{m}.{d}",
                "{y}年{m}月{d}日",
                "{y} 年 {m} 月 {d}",
                "{m:02d}/{d:02d}/{y}",
                "{d}.{m}.{y}",
                "{m}-{d}-{y:04d}",
                " {y:04d}-{m:02d}-{d:02d} ",
                "{y:04d}-{m:02d}-{d:02d}\t",
                "{y:04d}{m:02d}{d:02d}T00",
                "{y:05d}{m:02d}{d:02d}",
            ]
        )
    )
    text = fmt.format(y=y, m=m, d=d)
    if draw(st.booleans()) and draw(st.booleans()):
        text = text.translate({ord(c): 0xFF10 + int(c) for c in "0123456789"})  # fullwidth
    return text


def ric_number(area: str, birth: str, seq: int) -> str:
    body = f"{area}{birth}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


@st.composite
def national_id(draw) -> str:
    kind = draw(st.integers(0, 6))
    if kind == 0:  # SSN, valid or not
        area = draw(st.sampled_from([1, 78, 123, 219, 457, 536, 665, 666, 0, 899, 900, 987]))
        ssn = f"{area:03d}{draw(st.integers(0, 99)):02d}{draw(st.integers(0, 9999)):04d}"
        sep = draw(st.sampled_from(["-", "", " ", ".", "--", "/"]))
        return f"{ssn[:3]}{sep}{ssn[3:5]}{sep}{ssn[5:]}"
    if kind == 1:  # Chinese resident ID, valid or broken
        y, m, d = draw(ymd())
        nid = ric_number(
            draw(st.sampled_from(["110105", "310115", "999999"])),
            f"{y % 10000:04d}{m % 100:02d}{d % 100:02d}",
            draw(st.integers(0, 999)),
        )
        how = draw(st.integers(0, 4))
        if how == 1:
            nid = nid[:-1] + draw(st.sampled_from("0123456789Xx"))
        elif how == 2:
            nid = nid.lower()
        elif how == 3:
            nid = f"{nid[:6]} {nid[6:14]} {nid[14:]}"
        return nid
    if kind == 2:
        return draw(
            st.sampled_from(
                [
                    "000-00-0000",
                    "123-45-6789",
                    "111111111",
                    "999-99-9999",
                    "078-05-1120",
                    "11010519491231002X",
                    "123456789012345678",
                    "0000",
                    "unknown",
                    "N/A",
                    "ABC",
                    "A1B2C3",
                    "12345",
                    "987654",
                    "9876543210",
                    "2345678",
                    "1-2-3",
                    "--",
                    "11010519491231002x",
                    "ＡＢ１２３",
                ]
            )
        )
    if kind == 3:
        return draw(st.text(st.sampled_from("0123456789-. X/"), min_size=1, max_size=20))
    if kind == 4:
        return draw(printable())
    return draw(noise())


ADDRESS_WORDS = [
    "12",
    "4B",
    "#5",
    "Main",
    "MAIN",
    "St.",
    "St",
    "Str",
    "Rd",
    "Ave.",
    "Blvd",
    "Apt",
    "APT 4",
    "Suite",
    "Ste",
    "Unit",
    "No.",
    "the",
    "of",
    "N",
    "S.",
    "NE",
    "Mt",
    "PO",
    "Box",
    "O'Hare",
    "(rear)",
    "[x]",
    "{y}",
    "a/b",
    "semi;colon",
    "co:lon",
    "back\\slash",
    "`q`",
    '"dq"',
    "1-2",
    "a.b.c",
    "x#y",
    "-",
    ".",
    "under_score",
    "Straße",
    "Café",
    "Ｍａｉｎ",
    "北京市朝阳区建国路88号",
    "上海市浦东新区世纪大道100号5栋3单元201室",
    "88号Tower",
    "广东省深圳市南山区",
    "科技园路717号",
    "5-2号",
    "a_b号",
    "12楼",
    "无",
    "不详",
    "新疆维吾尔自治区",
    "中山路",
    "路",
    "号",
    "㐀区",
    "Springfield,",
    "IL",
    "62701",
    "62701-1234",
]


@st.composite
def address_text(draw) -> str:
    words = draw(st.lists(st.sampled_from(ADDRESS_WORDS), min_size=1, max_size=7))
    out = ""
    for w in words:
        out += w + draw(st.sampled_from([" ", " ", ", ", "", ",", "  ", "\t", "/"]))
    return out


@st.composite
def phone_text(draw) -> str:
    kind = draw(st.integers(0, 5))
    if kind == 0:
        return draw(
            st.sampled_from(
                [
                    "(415) 555-2671",
                    "+1 415-555-2671",
                    "4155552671",
                    "14155552671",
                    "+14155552671",
                    "+86 138 0013 8000",
                    "13800138000",
                    "+8613800138000",
                    "+44 20 7946 0958",
                    "000-000-0000",
                    "123-456-7890",
                    "12",
                    "abc",
                    "1-800-FLOWERS",
                    "+1 714 165 9748",
                    "17141659748",
                    "15270119429",
                    "11234567890",
                    "+1 (714) 165-9748",
                    "+10123456789",
                    "+1 714 165 9748 ext 5",
                    "030 1234567",
                    "+49 30 1234567",
                    "0044 20 7946 0958",
                    "1234567",
                    "9876543210",
                    "555-1234",
                    "+1 415 555 2671 /2",
                    "＋１ ４１５ ５５５ ２６７１",
                ]
            )
        )
    digits = draw(st.text(st.sampled_from("0123456789"), min_size=5, max_size=14))
    if kind == 1:
        return digits
    out = draw(st.sampled_from(["", "+", " +", "+1 ", "+86 ", "(", "1-"]))
    for ch in digits:
        out += draw(st.sampled_from(["", "", "", " ", "-", ".", "(", ")", "  "])) + ch
    if kind == 5:
        out += draw(st.sampled_from(["x", "a", " ext 12", "/", "#"]))
    return out


def record(rid: int) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries(
        {
            "record_id": st.just(rid),
            "full_name": maybe(st.one_of(name_text(), noise())),
            "given_name": maybe(st.one_of(name_text(), noise(8))),
            "middle_name": maybe(name_text()),
            "surname": maybe(st.one_of(name_text(), printable(8))),
            "name_suffix": maybe(
                st.sampled_from(
                    ["Jr", "jr.", "SR", "Senior", "III", "2nd", "V", "J R", "Esq", "Jnr", "ⅲ", "Ⅲ"]
                )
            ),
            "dob": maybe(st.one_of(date_text(), printable(10), noise(10))),
            "sex": maybe(
                st.sampled_from(
                    [
                        "M",
                        "m",
                        "F",
                        " f ",
                        "Male",
                        "FEMALE",
                        "woman",
                        "w",
                        "W",
                        "男",
                        "女",
                        " 女 ",
                        "x",
                        "U",
                        "\tm",
                        "ｍ",
                    ]
                )
            ),
            "national_id": maybe(national_id()),
            "id_country": st.one_of(
                st.none(),
                st.sampled_from(
                    ["CN", "cn", "CHN", "US", "usa", "USA", "AU", "", "??", " US", "ＣＮ", "Cn"]
                ),
            ),
            "address": maybe(st.one_of(address_text(), noise(30))),
            "postcode": maybe(
                st.one_of(
                    st.sampled_from(
                        [
                            "62701",
                            "62701-1234",
                            "SW1A 1AA",
                            "000",
                            "00",
                            "1111",
                            "１２３",
                            "100-000",
                            "a b",
                            "--1",
                            "ab_c",
                            "0",
                        ]
                    ),
                    printable(8),
                    noise(8),
                )
            ),
            "phone": maybe(st.one_of(phone_text(), noise(16))),
        }
    )


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
