"""Tests for the demo's furnishing data built from the Taiwan credit card default dataset."""

from __future__ import annotations

import calendar
import hashlib
import inspect
import json
import re
import time
from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from pypinyin import lazy_pinyin
from stdnum.cn import ric

from openbureau.demo import taiwan
from openbureau.demo._ric_areas import RIC_AREA_CODES
from openbureau.demo.taiwan import (
    DATA_FILE,
    PERIODS,
    RECORD_SCHEMA,
    build_demo_submissions,
    write_submission,
)
from openbureau.furnishing.schema import (
    DELINQUENT_STATUSES,
    FIELD_NAMES,
    PAYMENT_HISTORY_CHARS,
    PAYMENT_HISTORY_LENGTH,
    REQUIRED_FIELDS,
    AccountStatus,
    AccountType,
    NationalIdType,
)

N_ROWS = 24_000
# Dataset month columns, oldest (April 2005) first.
PAY = ("PAY_6", "PAY_5", "PAY_4", "PAY_3", "PAY_2", "PAY_0")
BILL = ("BILL_AMT6", "BILL_AMT5", "BILL_AMT4", "BILL_AMT3", "BILL_AMT2", "BILL_AMT1")
HAN_NAME = r"^[\u4e00-\u9fff]{2,4}$"
PINYIN_NAME = r"^[A-Z]+ [A-Z][a-z]+$"
RIC_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]


@pytest.fixture(scope="module")
def built() -> tuple[taiwan.DemoData, float]:
    start = time.perf_counter()
    data = build_demo_submissions()
    return data, time.perf_counter() - start


@pytest.fixture(scope="module")
def full(built) -> taiwan.DemoData:
    return built[0]


@pytest.fixture(scope="module")
def records(full) -> pl.DataFrame:
    return full.all_records()


@pytest.fixture(scope="module")
def raw() -> pl.DataFrame:
    # Read independently of the module under test (plain polars, own column handling).
    return pl.read_csv(DATA_FILE)


def month_end(period: str) -> date:
    year, month = (int(x) for x in period.split("-"))
    return date(year, month, calendar.monthrange(year, month)[1])


# ---------------------------------------------------------------------------------------------
# Rule checks, written as polars expressions


def age_on(ref: pl.Expr, dob: pl.Expr) -> pl.Expr:
    def month_day(d: pl.Expr) -> pl.Expr:  # dt.month() is Int8: widen before scaling
        return d.dt.month().cast(pl.Int32) * 100 + d.dt.day().cast(pl.Int32)

    before_birthday = month_day(ref) < month_day(dob)
    return ref.dt.year().cast(pl.Int64) - dob.dt.year() - before_birthday.cast(pl.Int64)


def ric_check_char(national_id: pl.Expr) -> pl.Expr:
    total = pl.sum_horizontal(
        national_id.str.slice(i, 1).cast(pl.Int64, strict=False) * w
        for i, w in enumerate(RIC_WEIGHTS)
    )
    check = (12 - total % 11) % 11
    return pl.when(check == 10).then(pl.lit("X")).otherwise(check.cast(pl.Utf8))


def rule_violations(frame: pl.DataFrame) -> dict[str, int]:
    """Number of records breaking each core validation rule (frame has member_code, period)."""
    status = pl.col("account_status")
    delinquent = status.is_in([s.value for s in DELINQUENT_STATUSES])
    dofd = pl.col("date_first_delinquency")
    amounts = ("credit_limit", "original_amount", "current_balance", "amount_past_due")
    rules = {
        "required_null": pl.any_horizontal(pl.col(c).is_null() for c in REQUIRED_FIELDS),
        "amount_range": pl.any_horizontal(
            ((pl.col(c) < 0) | (pl.col(c) >= 10**12)).fill_null(False) for c in amounts
        ),
        "opened_after_reporting": pl.col("date_opened") > pl.col("reporting_date"),
        "age_out_of_range": ~age_on(pl.col("reporting_date"), pl.col("date_of_birth")).is_between(
            18, 110
        ),
        "delinquent_no_past_due": delinquent & ~(pl.col("amount_past_due") > 0),
        "delinquent_bad_dofd": delinquent
        & (
            dofd.is_null() | (dofd > pl.col("reporting_date")) | (dofd < pl.col("date_opened"))
        ).fill_null(True),
        "current_with_past_due": (status == AccountStatus.CURRENT.value)
        & (pl.col("amount_past_due") != 0),
        "revolving_no_limit": (pl.col("account_type") == AccountType.REVOLVING.value)
        & ~(pl.col("credit_limit") > 0).fill_null(False),
        "history_format": ~pl.col("payment_history").str.contains(
            f"^[{PAYMENT_HISTORY_CHARS}]{{{PAYMENT_HISTORY_LENGTH}}}$"
        ),
        "status_domain": ~status.is_in([s.value for s in AccountStatus]),
        "type_domain": ~pl.col("account_type").is_in([t.value for t in AccountType]),
        "id_type_domain": ~pl.col("national_id_type").is_in([t.value for t in NationalIdType]),
        "duplicate_ref": pl.col("account_ref").is_duplicated().over("member_code", "period"),
        "id_format": ~pl.col("national_id").str.contains(r"^\d{17}[\dX]$"),
        "id_checksum": pl.col("national_id").str.slice(17, 1)
        != ric_check_char(pl.col("national_id")),
        "id_birth_date": pl.col("national_id")
        .str.slice(6, 8)
        .str.strptime(pl.Date, "%Y%m%d", strict=False)
        != pl.col("date_of_birth"),
    }
    counts = frame.select(
        expr.fill_null(True).cast(pl.Int64).sum().alias(name) for name, expr in rules.items()
    )
    return counts.row(0, named=True)


# ---------------------------------------------------------------------------------------------
# Vendored data


def test_dataset_is_vendored_with_attribution():
    assert DATA_FILE.is_file()
    readme = (DATA_FILE.parent / "README.md").read_text(encoding="utf-8")
    digest = hashlib.sha256(DATA_FILE.read_bytes()).hexdigest()
    assert digest in readme
    for needle in ("CC BY 4.0", "Yeh", "Lien", "10.24432/C55S3H", "## Source", "## License"):
        assert needle in readme
    assert "/work/shared" not in inspect.getsource(taiwan)


def test_area_codes_validate_for_any_birth_year():
    assert len(set(RIC_AREA_CODES)) == len(RIC_AREA_CODES) > 100
    for code in RIC_AREA_CODES:
        for birth in ("19200101", "19900101"):
            body = code + birth + "123"
            number = body + ric.calc_check_digit(body + "0")
            assert ric.is_valid(number), number


# ---------------------------------------------------------------------------------------------
# Shape, furnishers, speed


def test_counts_and_shape(full, records):
    assert full.accounts.height == N_ROWS
    assert full.accounts["account_ref"].n_unique() == N_ROWS
    assert full.accounts["source_id"].n_unique() == N_ROWS
    assert records.height == N_ROWS * len(PERIODS)
    assert sorted(records["period"].unique()) == list(PERIODS)
    assert PERIODS == ("2005-04", "2005-05", "2005-06", "2005-07", "2005-08", "2005-09")
    per_account = records.group_by("member_code", "account_ref").agg(
        pl.col("period").n_unique().alias("periods"), pl.len().alias("n")
    )
    assert per_account.height == N_ROWS
    assert (per_account["periods"] == len(PERIODS)).all()
    assert (per_account["n"] == len(PERIODS)).all()
    assert len(full.submissions) == len(full.furnishers) * len(PERIODS)


def test_frames_have_the_native_schema(full):
    expected = list(FIELD_NAMES)
    assert "record_no" not in expected
    for sub in full.submissions:
        assert sub.records.columns == expected
        assert dict(sub.records.schema) == RECORD_SCHEMA
        assert re.fullmatch(r"\d{4}-\d{2}", sub.period)
        assert sub.records.height > 0
        assert (sub.records["reporting_date"] == month_end(sub.period)).all()
        assert (sub.records["account_type"] == "revolving").all()
        assert (sub.records["currency"] == "TWD").all()
        assert (sub.records["national_id_type"] == "cn_ric").all()
        assert sub.records["date_closed"].is_null().all()


def test_furnishers(full, records):
    codes = [f.code for f in full.furnishers]
    assert len(codes) >= 3
    assert len(set(codes)) == len(codes)
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", c) for c in codes)
    assert all(f.name and "furnisher" in f.roles for f in full.furnishers)
    assert sum(f.kind == "bank" for f in full.furnishers) >= 2
    share = full.accounts["member_code"].value_counts(normalize=True).sort("proportion")
    dominant = share.row(-1, named=True)
    assert dominant["member_code"] == "zhifu"
    assert 0.6 <= dominant["proportion"] <= 0.8
    assert share["proportion"][-2] < 0.5
    assert set(records["member_code"].unique()) == set(codes)


def test_full_build_is_fast(built):
    _, seconds = built
    assert seconds < 10, f"full build took {seconds:.1f}s"


# ---------------------------------------------------------------------------------------------
# Identities


def test_ids_valid_and_consistent_with_dob_and_sex(full, records, raw):
    people = records.select("national_id", "date_of_birth").unique()
    # One birth date per ID, one ID per ground-truth person and vice versa.
    assert people["national_id"].n_unique() == people.height
    truth = records.join(full.accounts, on=["member_code", "account_ref"]).select(
        "person_id", "national_id", "date_of_birth", "source_id"
    )
    per_person = truth.group_by("person_id").agg(pl.col("national_id").n_unique().alias("n"))
    assert (per_person["n"] == 1).all()
    assert truth.select("person_id", "national_id").unique().height == people.height

    for number, dob in people.iter_rows():
        assert ric.is_valid(number), number
        assert ric.get_birth_date(number) == dob

    check = truth.unique("source_id").join(
        raw.select("ID", "SEX", "AGE"), left_on="source_id", right_on="ID"
    )
    assert check.height == N_ROWS
    seventeenth = pl.col("national_id").str.slice(16, 1).cast(pl.Int64)
    bad_sex = check.filter((seventeenth % 2 == 1) != (pl.col("SEX") == 1))
    assert bad_sex.height == 0
    age = age_on(pl.lit(taiwan.AGE_AS_OF), pl.col("date_of_birth"))
    assert check.filter(age != pl.col("AGE")).height == 0


def test_names_addresses_phones(full, records):
    zhifu = records.filter(pl.col("member_code") == "zhifu")
    assert zhifu["full_name"].str.contains(HAN_NAME).all()
    banks = records.filter(pl.col("member_code") != "zhifu")
    latin = banks["full_name"].str.contains(PINYIN_NAME)
    han = banks["full_name"].str.contains(HAN_NAME)
    assert (latin | han).all()
    assert 0.1 < latin.mean() < 0.9
    assert records["address"].str.contains(r"^[\u4e00-\u9fff]+市[\u4e00-\u9fff]+区.+\d+号").all()
    assert records["phone"].str.contains(r"^\+861[3-9]\d{9}$").all()
    assert full.persons["phone"].n_unique() == full.persons.height
    # Each person's two spellings: the pinyin one romanises the Chinese one.
    persons = full.persons
    assert persons["name_zh"].str.contains(HAN_NAME).all()
    assert persons["name_latin"].str.contains(PINYIN_NAME).all()
    spellings = persons.select("name_zh", "name_latin").unique().sort("name_zh", "name_latin")
    spellings = spellings.sample(n=min(3_000, spellings.height), seed=0)
    whole = given = 0
    for zh, latin in spellings.iter_rows():
        plain = "".join(lazy_pinyin(zh)).replace("lv", "lyu").replace("nv", "nyu")
        whole += plain == latin.replace(" ", "").lower()
        given += plain.endswith(latin.split(" ")[1].lower())
    # Surnames with a special surname reading (e.g. 曾 ZENG, not ceng) are the exceptions.
    assert whole / spellings.height > 0.95
    assert given / spellings.height > 0.99


def test_shared_people_across_two_furnishers(full, records):
    accounts_per_person = full.accounts.group_by("person_id").agg(
        pl.col("member_code").n_unique().alias("furnishers"), pl.len().alias("accounts")
    )
    shared = accounts_per_person.filter(pl.col("accounts") > 1)
    assert (accounts_per_person["accounts"] <= 2).all()
    assert (shared["furnishers"] == 2).all()
    assert 0.03 <= shared.height / accounts_per_person.height <= 0.07

    latest = records.filter(pl.col("period") == PERIODS[-1]).join(
        full.accounts.select("member_code", "account_ref", "person_id"),
        on=["member_code", "account_ref"],
    )
    pairs = (
        latest.join(shared.select("person_id"), on="person_id")
        .group_by("person_id")
        .agg(
            pl.col("national_id").n_unique().alias("ids"),
            pl.col("date_of_birth").n_unique().alias("dobs"),
            pl.col("full_name").n_unique().alias("names"),
            pl.col("full_name").str.contains(PINYIN_NAME).sum().alias("latin"),
            pl.col("full_name").str.contains(HAN_NAME).sum().alias("han"),
        )
    )
    assert pairs.height == shared.height
    assert (pairs["ids"] == 1).all() and (pairs["dobs"] == 1).all()
    assert (pairs["names"] == 2).all()
    assert (pairs["latin"] == 1).all() and (pairs["han"] == 1).all()
    # The spellings are the same person's two names.
    spelled = latest.join(full.persons, on="person_id")
    name_ok = (pl.col("full_name") == pl.col("name_zh")) | (
        pl.col("full_name") == pl.col("name_latin")
    )
    assert spelled.filter(~name_ok).height == 0


# ---------------------------------------------------------------------------------------------
# Account data reproduces the dataset


def expected_status(pay: pl.Expr) -> pl.Expr:
    k = pl.when(pay > 0).then(pay).otherwise(0)
    return (
        pl.when(k == 0)
        .then(pl.lit("current"))
        .otherwise(pl.concat_str(pl.lit("past_due_"), (pl.min_horizontal(k, 6) * 30).cast(pl.Utf8)))
    )


def expected_char(pay: pl.Expr) -> pl.Expr:
    return pl.when(pay > 0).then(pl.min_horizontal(pay, 6).cast(pl.Utf8)).otherwise(pl.lit("0"))


def test_records_reproduce_the_dataset(full, records, raw):
    joined = records.join(
        full.accounts.select("member_code", "account_ref", "source_id"),
        on=["member_code", "account_ref"],
    ).join(raw, left_on="source_id", right_on="ID")
    assert joined.height == records.height
    assert (joined["credit_limit"] == joined["LIMIT_BAL"]).all()
    for p, period in enumerate(PERIODS):
        month = joined.filter(pl.col("period") == period)
        pay, bill = pl.col(PAY[p]), pl.col(BILL[p])
        bad = month.filter(pl.col("account_status") != expected_status(pay))
        assert bad.height == 0, bad.head()
        # Balance is the bill (floored at 0) unless raised to cover the amount past due.
        balance_ok = (pl.col("current_balance") == pl.max_horizontal(bill, 0)) | (
            (pl.col("current_balance") == pl.col("amount_past_due"))
            & (pl.max_horizontal(bill, 0) < pl.col("amount_past_due"))
        )
        assert month.filter(~balance_ok).height == 0
        assert month.filter(pl.col("amount_past_due") > pl.col("current_balance")).height == 0
        # Payment history: position i is the month i months before this one, 'B' before April.
        for i in range(1, PAYMENT_HISTORY_LENGTH + 1):
            char = pl.col("payment_history").str.slice(i - 1, 1)
            want = expected_char(pl.col(PAY[p - i])) if i <= p else pl.lit("B")
            assert month.filter(char != want).height == 0, (period, i)
        # First delinquency: first day of the month k months before the reporting month.
        year, mon = (int(x) for x in period.split("-"))
        k = pl.when(pay > 0).then(pay).otherwise(0)
        index = year * 12 + mon - 1 - k
        want_dofd = pl.date(index // 12, index % 12 + 1, 1)
        late = month.filter(pay > 0)
        assert late.height > 0
        assert late.filter(pl.col("date_first_delinquency") != want_dofd).height == 0
    labels = full.accounts.join(raw, left_on="source_id", right_on="ID")
    assert (labels["default_next_month"] == labels["default payment next month"]).all()
    assert full.labels[full.accounts["account_ref"][0]] in (0, 1)
    assert set(full.person_ids) == set(full.accounts["account_ref"])


def test_dates_opened(records):
    opened = records.select("account_ref", "date_opened", "date_of_birth", "member_code")
    assert opened.unique().height == opened["account_ref"].n_unique()  # stable across periods
    assert (opened["date_opened"] < date(2005, 4, 1)).all()
    assert (opened["date_opened"] >= date(1997, 3, 1)).all()
    adult = pl.col("date_of_birth").dt.offset_by("18y")
    assert opened.filter(pl.col("date_opened") < adult).height == 0


def test_all_validation_rules_hold(records):
    assert rule_violations(records) == dict.fromkeys(rule_violations(records.head(0)), 0)


def test_rule_checks_catch_broken_records(records):
    sample = records.filter(pl.col("account_status") == "past_due_60").head(5)
    broken = sample.with_columns(
        amount_past_due=pl.lit(0, dtype=pl.Int64),
        payment_history=pl.lit("0" * 23 + "X"),
        national_id=pl.col("national_id").str.slice(0, 17) + pl.lit("Z"),
        credit_limit=pl.lit(0, dtype=pl.Int64),
    )
    counts = rule_violations(pl.concat([broken, broken]))
    for rule in (
        "delinquent_no_past_due",
        "history_format",
        "id_checksum",
        "revolving_no_limit",
        "duplicate_ref",
        "id_format",
    ):
        assert counts[rule] == 10, rule


# ---------------------------------------------------------------------------------------------
# Determinism and limit


def test_same_seed_same_frames(full):
    a = build_demo_submissions(seed=7, limit=2_000)
    b = build_demo_submissions(seed=7, limit=2_000)
    assert [(s.member_code, s.period) for s in a.submissions] == [
        (s.member_code, s.period) for s in b.submissions
    ]
    for sa, sb in zip(a.submissions, b.submissions, strict=True):
        assert_frame_equal(sa.records, sb.records)
    assert_frame_equal(a.accounts, b.accounts)
    assert_frame_equal(a.persons, b.persons)
    # Another seed changes the people, not the account figures.
    c = build_demo_submissions(seed=8, limit=2_000)
    assert not a.persons["national_id"].equals(c.persons["national_id"])
    key = ["source_id", "period"]

    def figures(d):
        return (
            d.all_records()
            .join(
                d.accounts.select("member_code", "account_ref", "source_id"),
                on=["member_code", "account_ref"],
            )
            .select(*key, "account_status", "payment_history", "credit_limit")
            .sort(key)
        )

    assert_frame_equal(figures(a), figures(c))
    # The default seed reproduces the full build's first submission exactly.
    again = build_demo_submissions()
    assert_frame_equal(again.submissions[0].records, full.submissions[0].records)


def test_limit(records):
    with pytest.raises(ValueError):
        build_demo_submissions(limit=0)
    small = build_demo_submissions(limit=500)
    assert small.accounts.height == 500
    assert small.all_records().height == 500 * len(PERIODS)
    assert rule_violations(small.all_records()) == dict.fromkeys(
        rule_violations(records.head(0)), 0
    )


# ---------------------------------------------------------------------------------------------
# Writing files


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_write_submission_round_trip(full, tmp_path, fmt):
    frame = full.submissions[-1].records.head(200)
    path = write_submission(frame, tmp_path / f"sub.{fmt}", fmt)
    assert path.is_file()
    date_cols = [name for name, dtype in RECORD_SCHEMA.items() if dtype == pl.Date]
    if fmt == "parquet":
        back = pl.read_parquet(path)
    elif fmt == "jsonl":
        lines = path.read_text(encoding="utf-8").splitlines()
        assert len(lines) == frame.height
        first = json.loads(lines[0])
        assert list(first) == list(FIELD_NAMES)
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", first["reporting_date"])
        assert first["date_closed"] is None
        back = pl.read_ndjson(
            path, schema={n: pl.Utf8 if n in date_cols else d for n, d in RECORD_SCHEMA.items()}
        )
    else:
        header = path.read_text(encoding="utf-8").splitlines()[0]
        assert header == ",".join(FIELD_NAMES)
        back = pl.read_csv(
            path, schema={n: pl.Utf8 if n in date_cols else d for n, d in RECORD_SCHEMA.items()}
        )
    if fmt != "parquet":
        assert back["reporting_date"].str.contains(r"^\d{4}-\d{2}-\d{2}$").all()
        back = back.with_columns(pl.col(date_cols).str.strptime(pl.Date, "%Y-%m-%d"))
    assert_frame_equal(back, frame)


def test_write_submission_infers_format(full, tmp_path):
    frame = full.submissions[0].records.head(3)
    assert write_submission(frame, tmp_path / "a" / "x.jsonl").is_file()
    with pytest.raises(ValueError):
        write_submission(frame, tmp_path / "x.txt")


def test_command_line_writes_every_submission(tmp_path):
    assert taiwan.main([str(tmp_path), "--format", "csv", "--limit", "300"]) == 0
    files = sorted(tmp_path.glob("*/*.csv"))
    assert len(files) == len(taiwan.FURNISHERS) * len(PERIODS)
    truth = pl.read_csv(tmp_path / "ground_truth_accounts.csv")
    assert truth.height == 300
    total = sum(pl.read_csv(f, infer_schema=False).height for f in files)
    assert total == 300 * len(PERIODS)
