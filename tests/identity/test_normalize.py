from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from openbureau.identity.normalize import (
    NORMALIZED_COLUMNS,
    is_placeholder_text,
    normalize_address,
    normalize_date,
    normalize_name,
    normalize_national_id,
    normalize_phone,
    normalize_record,
    normalize_records,
    swap_day_month,
)


def make_ric(area: str, dob: str, seq: int) -> str:
    body = f"{area}{dob}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


@pytest.mark.parametrize("raw", ["张伟", "ZHANG Wei", "Wei Zhang", "Zhang, Wei", "wei ZHANG"])
def test_chinese_and_latin_forms_agree(raw):
    n = normalize_name(raw)
    assert (n.given, n.surname, n.name_key) == ("wei", "zhang", "wei zhang")


def test_han_name_parts_and_compound_surname():
    assert normalize_name(given="伟", surname="张").surname == "zhang"
    n = normalize_name("欧阳娜娜")
    assert (n.surname, n.given_full) == ("ouyang", "nana")
    assert n.script == "han"
    # ü variants: 吕 → lu, Lyu → lu
    lyu = normalize_name(given="Xiaoming", surname="Lyu")
    assert normalize_name("吕小明").surname == lyu.surname


def test_pinyin_given_name_spacing_is_irrelevant():
    a = normalize_name("Xiao Ming Zhang")
    b = normalize_name("张小明")
    assert a.given_full == b.given_full == "xiaoming"
    assert a.name_key == b.name_key


def test_western_order_and_suffix():
    n = normalize_name("Smith, John Paul")
    assert (n.given, n.given_full, n.surname, n.suffix) == ("john", "johnpaul", "smith", None)
    assert normalize_name("John Smith Jr.").suffix == "jr"
    assert normalize_name("Dr. John Smith III").suffix == "iii"
    assert normalize_name(given="John", surname="Smith", suffix="Senior").suffix == "sr"
    assert normalize_name("John Smith Jr.").name_key == normalize_name("John Smith").name_key
    assert normalize_name("O'Neil, Mary-Ann").surname == "oneil"


@pytest.mark.parametrize("raw", [None, "", "N/A", "n.a.", "UNKNOWN", "  ", "--", "?"])
def test_placeholder_names_are_missing(raw):
    n = normalize_name(raw)
    assert n.name_key is None and n.given is None and n.surname is None
    assert is_placeholder_text(raw)


def test_cn_ric_birth_date_sex_and_checksum():
    good = make_ric("110105", "19800214", 123)  # odd sequence → male
    nid = normalize_national_id(good, "CN")
    assert nid.valid and nid.type == "cn_ric"
    assert (nid.birth_date, nid.sex) == ("19800214", "m")
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    nb = normalize_national_id(bad, "CN")
    assert nb.value == bad and nb.type == "cn_ric" and not nb.valid
    # shape-based detection without a country
    assert normalize_national_id(good).type == "cn_ric"


@pytest.mark.parametrize(
    "raw",
    ["000-00-0000", "123-45-6789", "111111111", "999-99-9999", "N/A", "078-05-1120",
     "11010519491231002X", "0000", "123456789012345678"],
)
def test_placeholder_and_test_ids_are_missing(raw):
    assert normalize_national_id(raw, "US").value is None
    assert normalize_national_id(raw).value is None


def test_ssn_validation():
    assert normalize_national_id("536-90-4399", "US").valid
    assert normalize_national_id("536904399", "US").value == "536904399"
    assert not normalize_national_id("666-12-3456", "US").valid  # area 666 never issued
    assert not normalize_national_id("536-00-4399", "US").valid  # group 00


def test_id_cross_check_against_record():
    nid = make_ric("310115", "19900307", 22)  # even → female
    ok = normalize_record({"record_id": 1, "national_id": nid, "id_country": "CN",
                           "dob": "1990-03-07", "sex": "F"})
    assert ok["id_conflict"] is False and ok["sex"] == "f"
    bad = normalize_record({"record_id": 2, "national_id": nid, "id_country": "CN",
                            "dob": "1990-07-03", "sex": "M"})
    assert bad["id_conflict"] is True
    filled = normalize_record({"record_id": 3, "national_id": nid, "id_country": "CN"})
    assert filled["dob"] == "19900307" and filled["dob_year"] == 1990


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("19900102", "19900102"),
        ("1990-01-02", "19900102"),
        ("1990/1/2", "19900102"),
        ("1990年1月2日", "19900102"),
        ("01/02/1990", "19900102"),
        ("25/12/1990", "19901225"),  # impossible month → swapped automatically
        (dt.date(1990, 1, 2), "19900102"),
        ("19901302", None),
        ("1900-01-01", None),
        ("N/A", None),
        ("yesterday", None),
    ],
)
def test_dates(raw, expected):
    assert normalize_date(raw) == expected


def test_dayfirst_and_swap():
    assert normalize_date("01/02/1990", dayfirst=True) == "19900201"
    assert swap_day_month("19900102") == "19900201"
    assert swap_day_month("19900101") is None  # day == month
    assert swap_day_month("19900125") is None  # month 25 impossible


def test_addresses():
    assert normalize_address("12 Main St., Apt 4B") == normalize_address("12 MAIN STREET apt 4b")
    assert normalize_address("5 Oak Rd") == ("5", "oak", "road")
    assert normalize_address("北京市朝阳区建国路88号") == ("北京市", "朝阳区", "建国路", "88")
    assert normalize_address("N/A") == ()
    assert len(set(normalize_address("1 1 main main"))) == len(normalize_address("1 1 main main"))


def test_phones():
    assert normalize_phone("(415) 555-2671") == "+14155552671"
    assert normalize_phone("+1 415-555-2671") == "+14155552671"
    assert normalize_phone("13800138000", "CN") == "+8613800138000"
    assert normalize_phone("+86 138 0013 8000") == "+8613800138000"
    for junk in ("000-000-0000", "123-456-7890", "N/A", "12", "abc"):
        assert normalize_phone(junk) is None


def test_frame_equals_record_path(population):
    sample = population.head(300)
    frame = normalize_records(sample)
    assert list(frame.columns[: 1 + len(NORMALIZED_COLUMNS)]) == ["record_id",
                                                                   *NORMALIZED_COLUMNS]
    for row_in, row_out in zip(sample.iter_rows(named=True), frame.iter_rows(named=True),
                               strict=True):
        one = normalize_record(row_in)
        for k, v in one.items():
            assert row_out[k] == v, (k, row_in)


def test_missing_columns_and_nulls():
    df = pl.DataFrame({"record_id": [1, 2], "full_name": [None, "N/A"]})
    out = normalize_records(df)
    assert out.height == 2
    assert out["name_key"].null_count() == 2
    assert out["addr_tokens"].to_list() == [[], []]
    with pytest.raises(ValueError):
        normalize_records(pl.DataFrame({"x": [1]}))


text = st.one_of(st.none(), st.text(max_size=40),
                 st.sampled_from(["N/A", "张伟", "ZHANG Wei", "000-00-0000", "Jr", "1990-13-45"]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(full=text, given_=text, surname=text, dob=text, nid=text,
       country=st.sampled_from([None, "CN", "US", "AU", "??"]), address=text, phone=text,
       postcode=text, sex=text)
def test_fuzz_normalize_record_never_raises(full, given_, surname, dob, nid, country, address,
                                            phone, postcode, sex):
    rec = normalize_record({"record_id": 1, "full_name": full, "given_name": given_,
                            "surname": surname, "dob": dob, "national_id": nid,
                            "id_country": country, "address": address, "phone": phone,
                            "postcode": postcode, "sex": sex})
    assert set(NORMALIZED_COLUMNS) <= set(rec)
    assert rec["dob"] is None or (len(rec["dob"]) == 8 and rec["dob"].isdigit())
    assert rec["phone"] is None or rec["phone"].startswith("+")
    assert isinstance(rec["addr_tokens"], list)
    assert rec["nid"] is None or rec["nid_type"] in ("cn_ric", "us_ssn", "other")
    for k in ("given", "given_full", "surname"):
        assert rec[k] is None or (rec[k] and " " not in rec[k])
