"""Mapping validated chunks to the native furnishing schema."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from openbureau.furnishing.metro2 import read_chunks, to_native
from openbureau.furnishing.metro2.mapping import map_accounts
from openbureau.furnishing.metro2.sample import sample_base
from openbureau.furnishing.schema import TYPED_SCHEMA

from .conftest import ALL_SEGMENTS, make_file


def _one(**fields) -> pl.DataFrame:
    base = sample_base(1)
    return base.with_columns([pl.lit(v, dtype=base.schema[k]).alias(k) for k, v in fields.items()])


@pytest.mark.parametrize("status,rating,expected", [
    ("11", "", "current"), ("71", "", "past_due_30"), ("78", "", "past_due_60"),
    ("80", "", "past_due_90"), ("82", "", "past_due_120"), ("83", "", "past_due_150"),
    ("84", "", "past_due_180"), ("93", "", "collection"), ("97", "", "charge_off"),
    ("96", "", "charge_off"), ("05", "0", "transferred"), ("13", "0", "paid_closed"),
    ("13", "3", "paid_closed"), ("61", "", "paid_closed"), ("64", "", "paid_closed"),
    ("65", "L", "paid_closed"), ("88", "0", "current"), ("89", "2", "past_due_60"),
    ("94", "G", "collection"), ("95", "L", "charge_off"), ("95", "6", "past_due_180"),
])
def test_status_mapping(status, rating, expected):
    out = map_accounts(_one(account_status=status, payment_rating=rating))
    assert out.get_column("account_status").to_list() == [expected]


@pytest.mark.parametrize("port,expected", [("R", "revolving"), ("I", "installment"),
                                           ("M", "mortgage"), ("O", "open"),
                                           ("C", "line_of_credit"), ("L", "installment")])
def test_account_type_mapping(port, expected):
    assert map_accounts(_one(portfolio_type=port))["account_type"].to_list() == [expected]


def test_identity_and_amount_fields():
    row = _one(first_name="MARY", middle_name="ANN", surname="SMITH", generation_code="J",
               social_security_number=12345678, date_birth=dt.date(1980, 2, 29),
               first_line_address="1 MAIN ST", second_line_address="APT 2", city="SPRINGFIELD",
               state="IL", zip_code="627011234", telephone_number=2175550100,
               consumer_account_number="ACC-1", portfolio_type="I", credit_limit=0,
               highest_credit=25000, current_balance=1200, amount_past_due=30,
               date_account_information=dt.date(2026, 10, 31),
               payment_history_profile="000000000000000000Z     ")
    out = map_accounts(row).row(0, named=True)
    assert out["full_name"] == "MARY ANN SMITH JR"
    assert out["national_id"] == "012345678" and out["national_id_type"] == "us_ssn"
    assert out["date_of_birth"] == dt.date(1980, 2, 29)
    assert out["address"] == "1 MAIN ST, APT 2, SPRINGFIELD, IL 62701-1234"
    assert out["phone"] == "+12175550100"
    assert out["account_ref"] == "ACC-1"
    assert out["credit_limit"] is None and out["original_amount"] == 25000
    assert out["current_balance"] == 1200 and out["amount_past_due"] == 30
    assert out["reporting_date"] == dt.date(2026, 10, 31)
    assert out["payment_history"] == "000000000000000000BDDDDD"
    assert out["currency"] == "USD"


def test_missing_ssn_gives_null_identity():
    out = map_accounts(_one(social_security_number=0)).row(0, named=True)
    assert out["national_id"] is None and out["national_id_type"] is None


def test_native_frame_schema_and_side_frames():
    data = make_file(20, ALL_SEGMENTS)
    chunk = next(iter(read_chunks(data)))
    res = to_native(chunk)
    assert dict(res.accounts.schema) == TYPED_SCHEMA
    assert res.accounts.height == 20
    assoc = res.side["associated_consumers"]
    assert assoc.height == 60 and set(assoc["segment"]) == {"J1", "J2"}
    assert assoc["ecoa_code"].null_count() == 0
    for key in ("original_creditor", "purchased_sold", "specialized_payment",
                "account_number_change", "employment"):
        assert res.side[key].height == 20
        assert set(res.side[key]["record_no"]) == set(res.accounts["record_no"])
    l1 = res.side["account_number_change"].join(res.accounts, on="record_no")
    assert (l1["old_consumer_account_number"] == l1["account_ref"]).all()
    assert l1["new_consumer_account_number"].str.starts_with("NEW").all()


def test_rejected_and_deleted_records_are_not_mapped():
    base = sample_base(10)
    base = base.with_columns(
        account_status=pl.when(pl.col("record_no") == 3).then(pl.lit("XX"))
        .when(pl.col("record_no") == 4).then(pl.lit("DA")).otherwise(pl.col("account_status")),
        payment_rating=pl.when(pl.col("record_no").is_in([3, 4])).then(pl.lit(""))
        .otherwise(pl.col("payment_rating")))
    chunk = next(iter(read_chunks(make_file(base=base, kinds=("N1",)))))
    res = to_native(chunk)
    assert 3 not in res.accounts["record_no"].to_list()
    assert 4 not in res.accounts["record_no"].to_list()
    assert res.deletions["record_no"].to_list() == [4]
    assert 3 not in res.side["employment"]["record_no"].to_list()
    assert res.accounts.height == 8
