"""Every validation rule fires on exactly the bad record; the rest of the file loads."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

from openbureau.furnishing.metro2 import read_file, validate_file
from openbureau.furnishing.metro2.layouts import SEGMENTS
from openbureau.furnishing.metro2.sample import sample_base, sample_segments
from openbureau.furnishing.metro2.writer import normalize

from .conftest import make_file

N = 12
BAD = 5  # record_no of the mutated record
INFO = dt.date(2026, 10, 31)

CLEAN = {
    "account_status": "11", "payment_rating": "", "portfolio_type": "R", "account_type": "18",
    "terms_duration": "REV", "current_balance": 500, "amount_past_due": 0,
    "original_charge_off_amount": 0, "date_first_delinquency": None, "date_closed": None,
    "special_comment": "", "compliance_condition_code": "", "ecoa_code": "1",
    "date_opened": dt.date(2015, 3, 1), "date_account_information": INFO,
}


def _base(**changes) -> pl.DataFrame:
    base = sample_base(N)
    row = CLEAN | changes
    is_bad = pl.col("record_no") == BAD
    return base.with_columns([
        pl.when(is_bad).then(pl.lit(v, dtype=base.schema[k])).otherwise(pl.col(k)).alias(k)
        for k, v in row.items()])


CASES = [
    ({"account_status": "XX"}, "account_status", "domain"),
    ({"portfolio_type": "Q"}, "portfolio_type", "domain"),
    ({"account_type": "ZZ"}, "account_type", "domain"),
    ({"payment_rating": "1"}, "payment_rating", "domain"),
    ({"account_status": "13", "current_balance": 0, "date_closed": INFO}, "payment_rating",
     "domain"),
    ({"payment_history_profile": "0" * 22 + "QQ"}, "payment_history_profile", "domain"),
    ({"special_comment": "ZZ"}, "special_comment", "domain"),
    ({"compliance_condition_code": "ZZ"}, "compliance_condition_code", "strict_domain"),
    ({"ecoa_code": "Q"}, "ecoa_code", "strict_domain"),
    ({"generation_code": "Q"}, "generation_code", "strict_domain"),
    ({"terms_frequency": "X"}, "terms_frequency", "domain"),
    ({"terms_duration": "ABC"}, "terms_duration", "domain"),
    ({"correction_indicator": 5}, "correction_indicator", "domain"),
    ({"identification_number": "99999"}, "identification_number", "domain"),
    ({"interest_type_indicator": "Q"}, "interest_type_indicator", "domain"),
    ({"social_security_number": 0, "date_birth": None}, "social_security_number", "ssn_or_dob"),
    ({"account_status": "71", "amount_past_due": 100}, "date_first_delinquency",
     "strict_delinquency"),
    ({"account_status": "78", "date_first_delinquency": INFO}, "amount_past_due",
     "strict_delinquency"),
    ({"account_status": "13", "payment_rating": "0", "current_balance": 0}, "date_closed",
     "strict_closed"),
    ({"account_status": "62", "date_closed": INFO}, "current_balance", "strict_closed"),
    ({"account_status": "97", "date_first_delinquency": INFO, "amount_past_due": 9},
     "original_charge_off_amount", "strict_charge_off"),
    ({"original_charge_off_amount": 700}, "original_charge_off_amount", "strict_charge_off"),
    ({"date_opened": dt.date(2026, 11, 5)}, "date_account_information", "strict_date_order"),
    ({"date_closed": dt.date(2001, 1, 1)}, "date_closed", "strict_date_order"),
    ({"zip_code": "1234"}, "zip_code", "strict_format"),
    ({"surname": ""}, "surname", "required"),
    ({"consumer_account_number": ""}, "consumer_account_number", "required"),
    ({"date_account_information": None}, "date_account_information", "required"),
    ({"date_opened": None}, "date_opened", "required"),
]


@pytest.mark.parametrize("changes,field,rule", CASES, ids=[f"{c[1]}-{c[2]}" for c in CASES])
def test_base_rule(changes, field, rule):
    data = make_file(base=_base(**changes), kinds=())
    f = read_file(data)
    rej = f.rejections
    assert set(rej.get_column("record_no")) == {BAD}, rej
    assert (field, rule) in set(zip(rej["field"], rej["rule"], strict=True)), rej
    off = f.base.filter(pl.col("record_no") == BAD).get_column("byte_offset").item()
    assert set(rej.get_column("byte_offset")) == {off}
    assert f.base.height == N  # the file still loads; the consumer drops the bad record


def test_clean_base_has_no_rejections():
    assert read_file(make_file(base=_base(), kinds=())).rejections.height == 0


def _patch(data: bytes, record_no: int, pos: int, value: bytes) -> bytes:
    off = (record_no - 1) * 426 + pos - 1
    return data[:off] + value + data[off + len(value):]


@pytest.mark.parametrize("pos,value,field,rule", [
    (155, b"      100", "current_balance", "numeric"),
    (155, b"-00000005", "current_balance", "strict_non_negative"),
    (76, b"02302020", "date_opened", "date"),
    (76, b"        ", "date_opened", "date"),
    (206, b"99999999", "date_last_payment", "date"),
    (6, b"10312026256100", "time_stamp", "timestamp"),
    (232, b"SM\x01TH", "surname", "charset"),
    (232, b"SM`TH", "surname", "charset"),
])
def test_parse_level_rules_name_record_and_field(pos, value, field, rule):
    data = make_file(base=_base(), kinds=())
    f = read_file(_patch(data, BAD, pos, value))
    got = set(zip(f.rejections["record_no"], f.rejections["field"], f.rejections["rule"],
                  strict=True))
    assert (BAD, field, rule) in got
    assert {r for r, _, _ in got} == {BAD}


def _seg_case(name, **changes):
    base = _base()
    segs = sample_segments(base, ("J1", "J2", "K1", "K2", "K3", "K4", "L1", "N1"))
    is_bad = pl.col("record_no") == BAD
    df = normalize(segs[name], SEGMENTS[name])
    segs[name] = df.with_columns([
        pl.when(is_bad).then(pl.lit(v, dtype=df.schema[k])).otherwise(pl.col(k)).alias(k)
        for k, v in changes.items()])
    return base, segs


@pytest.mark.parametrize("seg,changes,field,rule", [
    ("J1", {"social_security_number": 0, "date_birth": None}, "social_security_number",
     "ssn_or_dob"),
    ("J1", {"generation_code": "Q"}, "generation_code", "domain"),
    ("J1", {"first_name": ""}, "first_name", "required"),
    ("J2", {"residence_code": "X"}, "residence_code", "domain"),
    ("J2", {"address_indicator": "Q"}, "address_indicator", "domain"),
    ("K1", {"creditor_classification": 20}, "creditor_classification", "domain"),
    ("K2", {"purchased_indicator": 9}, "purchased_name", "domain"),
    ("K3", {"agency_identifier": 0, "account_number": "X1"}, "account_number", "domain"),
    ("K4", {"specialized_payment_indicator": 3}, "specialized_payment_indicator", "domain"),
    ("L1", {"new_identification_number": "NEWID"}, "new_identification_number", "domain"),
    ("N1", {"employer_name": ""}, "employer_name", "required"),
])
def test_segment_rule(seg, changes, field, rule):
    import io

    from openbureau.furnishing.metro2 import write_file
    from openbureau.furnishing.metro2.sample import HEADER

    base, segs = _seg_case(seg, **changes)
    buf = io.BytesIO()
    write_file(buf, HEADER, base, segs)
    f = read_file(buf.getvalue())
    rej = f.rejections
    assert set(rej["record_no"]) == {BAD}
    assert (seg, field, rule) in set(zip(rej["segment"], rej["field"], rej["rule"], strict=True))
    acc = next(iter([f])).base.filter(~pl.col("record_no").is_in(list(rej["record_no"])))
    assert acc.height == N - 1


def test_duplicate_single_segment_rejected():
    data = make_file(N, kinds=("K1", "K1"))
    f = read_file(data)
    assert set(f.rejections["rule"]) == {"duplicate_segment"}
    assert f.rejections.height == N


def test_report_serialises_as_json_and_csv():
    data = make_file(base=_base(account_status="XX"), kinds=())
    rep = validate_file(data)
    assert rep.status == "records_rejected" and rep.records_rejected == 1
    d = json.loads(rep.to_json())
    assert d["rejections"][0]["record_no"] == BAD and d["rejections"][0]["rule"] == "domain"
    csv = rep.to_csv().splitlines()
    assert csv[0] == "record_no,byte_offset,segment,field,rule,message"
    assert csv[1].startswith(f"{BAD},")
    bad = validate_file(data[:-10])
    assert bad.status == "file_rejected" and "FILE" in bad.to_csv()
