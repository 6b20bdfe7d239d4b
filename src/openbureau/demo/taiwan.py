"""The demo's furnishing data, built from the real Taiwan credit card default dataset.

Each of the 24,000 rows of the vendored UCI development split (``data/``, CC BY 4.0, see its
README) becomes one revolving (credit card) account, reported for six monthly periods,
April to September 2005, by one of three furnishers. The dataset's months map to periods as
PAY_6/BILL_AMT6 = April ... PAY_0/BILL_AMT1 = September.

The people behind the rows are anonymous in the dataset, so identities are synthetic:
generated deterministically from ``seed`` with Faker's zh_CN locale data (names, cities,
districts, mobile prefixes) and Faker's seeded random generator, plus numpy for the numbers.
Resident ID numbers are valid 18-character ``cn_ric`` numbers whose birth date agrees with
the dataset's AGE (as of 2005-09-30) and whose 17th digit agrees with its SEX. About 5% of
people hold two accounts (two dataset rows with the same SEX and AGE) at two different
furnishers; one furnisher reports the name in Chinese script, the other in pinyin.

Field mapping, for the period whose dataset columns are PAY_x and BILL_AMTx (k = PAY_x when
positive, else 0):

- account_type ``revolving``, credit_limit = LIMIT_BAL, currency ``TWD``, date_closed null.
- account_status: k = 0 -> ``current``; k = 1..5 -> ``past_due_30``..``past_due_150``;
  k >= 6 -> ``past_due_180``.
- current_balance = max(BILL_AMTx, 0), raised to amount_past_due if that is larger.
- amount_past_due: 0 when current, else max(min(balance, k * minimum payment), 1) where the
  minimum payment is 5% of the balance, at least NT$1,000.
- date_first_delinquency: first day of the month k months before the reporting month (never
  before date_opened); null when current.
- payment_history: position i is the profile character of the month i months earlier ('0'
  paid as agreed, '1'..'6' months late), 'B' for months before April 2005.
- date_opened: a fixed random date 1-4 (platform) or 1-8 (banks) years before April 2005,
  never before the holder's 18th birthday.
- reporting_date: the last day of the period's month.

Everything is columnar: Python loops only run over furnishers, periods or the few hundred
distinct name parts, never over accounts.

Write the files with ``python -m openbureau.demo.taiwan OUT_DIR [--format jsonl|csv|parquet]``.
"""

from __future__ import annotations

import argparse
import calendar
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl
from faker import Faker
from faker.providers.address.zh_CN import Provider as _ZhAddress
from faker.providers.person.zh_CN import Provider as _ZhPerson
from faker.providers.phone_number.zh_CN import Provider as _ZhPhone
from pypinyin import lazy_pinyin

from openbureau.demo._ric_areas import RIC_AREA_CODES
from openbureau.furnishing.schema import (
    FIELD_NAMES,
    PAYMENT_HISTORY_LENGTH,
    TYPED_SCHEMA,
    AccountStatus,
    AccountType,
    NationalIdType,
)

__all__ = [
    "AGE_AS_OF",
    "CURRENCY",
    "DATA_FILE",
    "FURNISHERS",
    "PERIODS",
    "RECORD_SCHEMA",
    "DemoData",
    "DemoSubmission",
    "Furnisher",
    "build_demo_submissions",
    "load_dataset",
    "pay_to_status",
    "write_demo_submissions",
    "write_submission",
]

DATA_FILE = Path(__file__).resolve().parent / "data" / "taiwan_credit_default_train.csv"

# Reporting periods, oldest first, and the dataset columns that describe each of them.
PERIODS: tuple[str, ...] = ("2005-04", "2005-05", "2005-06", "2005-07", "2005-08", "2005-09")
PAY_COLUMNS: tuple[str, ...] = ("PAY_6", "PAY_5", "PAY_4", "PAY_3", "PAY_2", "PAY_0")
BILL_COLUMNS: tuple[str, ...] = (
    "BILL_AMT6",
    "BILL_AMT5",
    "BILL_AMT4",
    "BILL_AMT3",
    "BILL_AMT2",
    "BILL_AMT1",
)
LABEL_COLUMN = "default payment next month"

AGE_AS_OF = date(2005, 9, 30)  # the dataset's AGE is taken to be the age on this date
HISTORY_START = date(2005, 4, 1)  # no payment history is known before this month
CURRENCY = "TWD"
SHARED_PERSON_SHARE = 0.05  # share of people holding accounts at two furnishers
MIN_PAYMENT_RATE_PCT = 5  # estimated monthly minimum payment: 5% of the balance ...
MIN_PAYMENT_FLOOR = 1_000  # ... but at least NT$1,000
MIN_AGE_AT_OPENING_YEARS = 18

# Native record columns (the typed schema without record_no), in FIELDS order.
RECORD_SCHEMA: dict[str, pl.DataType] = {name: TYPED_SCHEMA[name] for name in FIELD_NAMES}

_STATUS_BY_MONTHS_LATE: dict[int, str] = {
    0: AccountStatus.CURRENT.value,
    1: AccountStatus.PAST_DUE_30.value,
    2: AccountStatus.PAST_DUE_60.value,
    3: AccountStatus.PAST_DUE_90.value,
    4: AccountStatus.PAST_DUE_120.value,
    5: AccountStatus.PAST_DUE_150.value,
    6: AccountStatus.PAST_DUE_180.value,
}


@dataclass(frozen=True)
class Furnisher:
    """A bureau member that furnishes data in the demo, with how the demo generates its book."""

    code: str  # member code, lowercase ASCII
    name: str
    roles: tuple[str, ...]
    kind: Literal["platform", "bank"]
    account_share: float  # share of single-furnisher accounts assigned here
    latin_name_share: float  # share of its (unshared) accounts reported with pinyin names
    years_open: tuple[int, int]  # accounts opened this many years before April 2005
    ref_prefix: str
    ref_digits: int


FURNISHERS: tuple[Furnisher, ...] = (
    Furnisher(
        code="zhifu",
        name="Zhifu Pay Credit",
        roles=("furnisher", "subscriber"),
        kind="platform",
        account_share=0.72,
        latin_name_share=0.0,
        years_open=(1, 4),
        ref_prefix="ZF",
        ref_digits=12,
    ),
    Furnisher(
        code="hzbank",
        name="Hangzhou Commercial Bank",
        roles=("furnisher", "subscriber"),
        kind="bank",
        account_share=0.17,
        latin_name_share=0.35,
        years_open=(1, 8),
        ref_prefix="HZB",
        ref_digits=10,
    ),
    Furnisher(
        code="zjrcb",
        name="Zhejiang Rural Credit Bank",
        roles=("furnisher", "subscriber"),
        kind="bank",
        account_share=0.11,
        latin_name_share=0.6,
        years_open=(1, 8),
        ref_prefix="ZJRC",
        ref_digits=9,
    ),
)


@dataclass(frozen=True)
class DemoSubmission:
    """One furnisher's file for one reporting period, in the native schema."""

    member_code: str
    period: str  # YYYY-MM
    records: pl.DataFrame  # exactly RECORD_SCHEMA, sorted by account_ref


@dataclass(frozen=True)
class DemoData:
    """Everything the demo needs: members, their submissions and the ground truth.

    ``accounts`` has one row per account: member_code, account_ref, person_id, source_id
    (the dataset's ID), default_next_month (the dataset's label, 0/1 for October 2005) and
    latin_name (whether this furnisher reports the name in pinyin). ``persons`` has one row
    per synthetic person with both spellings of the name and the identity fields.
    """

    seed: int
    furnishers: list[Furnisher]
    submissions: list[DemoSubmission]
    accounts: pl.DataFrame
    persons: pl.DataFrame

    @property
    def labels(self) -> dict[str, int]:
        """account_ref -> default flag (1 = defaulted in October 2005)."""
        return dict(
            zip(self.accounts["account_ref"], self.accounts["default_next_month"], strict=True)
        )

    @property
    def person_ids(self) -> dict[str, str]:
        """account_ref -> ground-truth person id."""
        return dict(zip(self.accounts["account_ref"], self.accounts["person_id"], strict=True))

    def submission(self, member_code: str, period: str) -> DemoSubmission:
        for sub in self.submissions:
            if sub.member_code == member_code and sub.period == period:
                return sub
        raise KeyError((member_code, period))

    def all_records(self) -> pl.DataFrame:
        """Every record of every submission, with member_code and period columns first."""
        return pl.concat(
            [
                s.records.select(
                    pl.lit(s.member_code).alias("member_code"),
                    pl.lit(s.period).alias("period"),
                    pl.all(),
                )
                for s in self.submissions
            ]
        )


# ---------------------------------------------------------------------------------------------
# Dataset


def load_dataset(limit: int | None = None) -> pl.DataFrame:
    """The vendored dataset (first ``limit`` rows if given), all columns Int64."""
    frame = pl.read_csv(DATA_FILE, infer_schema=False).select(pl.all().cast(pl.Int64))
    return frame if limit is None else frame.head(limit)


def pay_to_status(pay: pl.Expr) -> pl.Expr:
    """Map a dataset PAY_x value to the native account status (<= 0 is current)."""
    months_late = pl.when(pay > 0).then(pl.min_horizontal(pay, 6)).otherwise(0)
    return months_late.replace_strict(_STATUS_BY_MONTHS_LATE, return_dtype=pl.Utf8)


def _history_char(pay: pl.Expr) -> pl.Expr:
    """Metro 2 profile character for one month: '0' paid as agreed, '1'..'6' months late."""
    return pl.when(pay > 0).then(pl.min_horizontal(pay, 6).cast(pl.Utf8)).otherwise(pl.lit("0"))


# ---------------------------------------------------------------------------------------------
# People and accounts


def _assign_people(rows: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Decide who holds which row and at which furnisher.

    Returns ``rows`` with: person_row (the row that defines the person), furnisher (index into
    FURNISHERS) and latin_name (bool). Shared people are pairs of rows with equal SEX and AGE
    whose two accounts sit at two different furnishers, one reported in Chinese script, the
    other in pinyin.
    """
    n = rows.height
    shares = np.array([f.account_share for f in FURNISHERS])
    shares = shares / shares.sum()
    # Ordered (Chinese-script furnisher, pinyin furnisher) combinations for shared people. The
    # platform only reports Chinese names, so it is always first.
    combos = [
        (a, b)
        for a in range(len(FURNISHERS))
        for b in range(len(FURNISHERS))
        if a != b and FURNISHERS[b].kind == "bank"
    ]
    combo_weights = np.array([shares[a] * shares[b] for a, b in combos])
    combo_weights = combo_weights / combo_weights.sum()

    # Candidate pairs: consecutive rows, in a random order, within each (SEX, AGE) group.
    rows = rows.with_columns(_key=pl.Series(rng.permutation(n)))
    rows = rows.with_columns(
        _pair=((pl.col("_key").rank("ordinal").over("SEX", "AGE") - 1) // 2).cast(pl.Int64)
    )
    pairs = (
        rows.group_by("SEX", "AGE", "_pair")
        .agg(_size=pl.len(), first_row=pl.col("row").min())
        .filter(pl.col("_size") == 2)
        .sort("first_row")
    )
    n_shared = min(round(n * SHARED_PERSON_SHARE / (1 + SHARED_PERSON_SHARE)), pairs.height)
    chosen_idx = np.sort(rng.choice(pairs.height, size=n_shared, replace=False))
    combo_idx = rng.choice(len(combos), size=n_shared, p=combo_weights)
    chosen = pairs[chosen_idx].select(
        "SEX",
        "AGE",
        "_pair",
        "first_row",
        _chinese_f=pl.Series([combos[i][0] for i in combo_idx], dtype=pl.Int64),
        _latin_f=pl.Series([combos[i][1] for i in combo_idx], dtype=pl.Int64),
        _flip=pl.Series(rng.integers(0, 2, size=n_shared), dtype=pl.Boolean),
    )

    single_f = rng.choice(len(FURNISHERS), size=n, p=shares)
    latin_u = rng.random(n)
    latin_share = np.array([f.latin_name_share for f in FURNISHERS])[single_f]

    rows = rows.with_columns(
        _single_f=pl.Series(single_f, dtype=pl.Int64),
        _single_latin=pl.Series(latin_u < latin_share),
    ).join(chosen, on=["SEX", "AGE", "_pair"], how="left")
    rows = rows.sort("row")  # joins do not promise order; later draws are positional
    is_shared = pl.col("first_row").is_not_null()
    # Exactly one of the two rows of a shared pair gets the pinyin spelling.
    gets_latin = (pl.col("row") == pl.col("first_row")) ^ pl.col("_flip")
    return rows.with_columns(
        person_row=pl.coalesce("first_row", "row"),
        furnisher=pl.when(is_shared)
        .then(pl.when(gets_latin).then("_latin_f").otherwise("_chinese_f"))
        .otherwise("_single_f"),
        latin_name=pl.when(is_shared).then(gets_latin).otherwise("_single_latin"),
    ).drop(
        "_key",
        "_pair",
        "first_row",
        "_size",
        "_chinese_f",
        "_latin_f",
        "_flip",
        "_single_f",
        "_single_latin",
        strict=False,
    )


_SURNAME_PINYIN_OVERRIDES = {
    # Surname readings differ from the everyday reading of the character.
    "曾": "zeng", "单": "shan", "解": "xie", "仇": "qiu", "朴": "piao", "查": "zha",
    "区": "ou", "盖": "ge", "乐": "yue", "缪": "miao", "覃": "qin", "翟": "zhai",
    "薄": "bo", "阚": "kan", "都": "du", "卜": "bu", "吕": "lyu",
}  # fmt: skip


def _passport_pinyin(syllables: list[str]) -> str:
    """Join toneless pinyin syllables, spelling u-umlaut the way Chinese passports do."""
    out = []
    for s in syllables:
        if s.startswith(("lv", "nv")):
            s = s[0] + ("u" + s[2:] if s[2:].startswith("e") else "yu" + s[2:])
        out.append(s)
    return "".join(out)


def _surname_pinyin(surname: str) -> str:
    return _SURNAME_PINYIN_OVERRIDES.get(surname) or _passport_pinyin(lazy_pinyin(surname))


def _make_identities(persons: pl.DataFrame, seed: int, rng: np.random.Generator) -> pl.DataFrame:
    """Synthetic identity fields for each person (columns SEX and AGE required)."""
    n = persons.height
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    draw = fake.random.choices  # Faker's seeded generator, drawn in bulk

    surnames = list(_ZhPerson.last_names)
    male = list(_ZhPerson.first_names_male)
    female = list(_ZhPerson.first_names_female)
    male_1 = [g for g in male if len(g) == 1]
    female_1 = [g for g in female if len(g) == 1]
    cities = sorted(set(_ZhAddress.cities) - {"台北", "香港", "澳门"})
    districts = sorted(set(_ZhAddress.districts))
    mobile_prefixes = np.array(sorted(set(_ZhPhone.phonenumber_prefixes)), dtype=np.int64)

    frame = persons.with_columns(
        _surname=pl.Series(draw(surnames, weights=list(_ZhPerson.last_names.values()), k=n)),
        _given_m=pl.Series(draw(male, k=n)),
        _given_f=pl.Series(draw(female, k=n)),
        _second_m=pl.Series(draw(male_1, k=n)),
        _second_f=pl.Series(draw(female_1, k=n)),
        _city=pl.Series(draw(cities, k=n)),
        _district=pl.Series(draw(districts, k=n)),
        _street=pl.Series(draw(cities, k=n)),
        _street_suffix=pl.Series(draw(("路", "街"), weights=(3, 1), k=n)),
        _two_char=pl.Series(rng.random(n) < 0.45),
        _house_no=pl.Series(rng.integers(1, 900, size=n)),
        _flat=pl.Series(rng.random(n) < 0.75),
        _building=pl.Series(rng.integers(1, 31, size=n)),
        _room=pl.Series(rng.integers(1, 29, size=n) * 100 + rng.integers(1, 7, size=n)),
        _dob_u=pl.Series(rng.random(n)),
        _area=pl.Series(draw(RIC_AREA_CODES, k=n)),
        _seq0=pl.Series(rng.integers(0, 500, size=n)),
    )
    male_sex = pl.col("SEX") == 1
    given_1 = pl.when(male_sex).then("_given_m").otherwise("_given_f")
    second = pl.when(male_sex).then("_second_m").otherwise("_second_f")
    frame = frame.with_columns(
        _given=pl.when(pl.col("_two_char") & (given_1.str.len_chars() == 1))
        .then(pl.concat_str(given_1, second))
        .otherwise(given_1)
    )

    # Pinyin over the distinct name parts only.
    surname_py = {s: _surname_pinyin(s).upper() for s in frame["_surname"].unique()}
    given_py = {g: _passport_pinyin(lazy_pinyin(g)).capitalize() for g in frame["_given"].unique()}
    frame = frame.with_columns(
        name_zh=pl.concat_str("_surname", "_given"),
        name_latin=pl.concat_str(
            pl.col("_surname").replace_strict(surname_py),
            pl.lit(" "),
            pl.col("_given").replace_strict(given_py),
        ),
    )

    # Birth date: uniform over the year of dates that give age AGE on AGE_AS_OF.
    first_dob = pl.date(AGE_AS_OF.year - 1 - pl.col("AGE"), AGE_AS_OF.month, AGE_AS_OF.day)
    first_dob = first_dob + pl.duration(days=1)
    last_dob = pl.date(AGE_AS_OF.year - pl.col("AGE"), AGE_AS_OF.month, AGE_AS_OF.day)
    span = (last_dob - first_dob).dt.total_days() + 1
    frame = frame.with_columns(
        date_of_birth=first_dob + pl.duration(days=(pl.col("_dob_u") * span).floor().cast(pl.Int64))
    )

    # Resident ID: area(6) + birth date(8) + sequence(3, odd for men) + check character.
    # The sequence is made unique within (area, birth date, sex) so IDs never collide.
    order = pl.int_range(pl.len()).over("_area", "date_of_birth", "SEX")
    seq = ((pl.col("_seq0") + order) % 500) * 2 + male_sex.cast(pl.Int64)
    frame = frame.with_columns(
        _body=pl.concat_str(
            "_area",
            pl.col("date_of_birth").dt.strftime("%Y%m%d"),
            seq.cast(pl.Utf8).str.zfill(3),
        )
    )
    weights = [pow(2, 17 - i, 11) for i in range(17)]
    weighted = pl.sum_horizontal(
        pl.col("_body").str.slice(i, 1).cast(pl.Int64) * w for i, w in enumerate(weights)
    )
    check = (12 - weighted % 11) % 11
    frame = frame.with_columns(
        national_id=pl.concat_str(
            "_body",
            pl.when(check == 10).then(pl.lit("X")).otherwise(check.cast(pl.Utf8)),
        )
    )

    # Address, Chinese order: city, district, street, number, [building, room].
    frame = frame.with_columns(
        address=pl.concat_str(
            "_city",
            pl.lit("市"),
            "_district",
            pl.lit("区"),
            "_street",
            "_street_suffix",
            pl.col("_house_no").cast(pl.Utf8),
            pl.lit("号"),
            pl.when("_flat")
            .then(
                pl.concat_str(
                    pl.col("_building").cast(pl.Utf8),
                    pl.lit("幢"),
                    pl.col("_room").cast(pl.Utf8),
                    pl.lit("室"),
                )
            )
            .otherwise(pl.lit("")),
        )
    )

    # The same address in Latin letters, in Western order, for formats that only carry ASCII
    # (Metro 2): number and street, district and flat, city, province, postal code.
    frame = frame.with_columns(address_latin=_latin_address(frame))

    # Mobile numbers in E.164, unique across people.
    numbers = rng.choice(len(mobile_prefixes) * 100_000_000, size=n, replace=False)
    frame = frame.with_columns(
        phone=pl.concat_str(
            pl.lit("+86"),
            pl.Series(mobile_prefixes[numbers // 100_000_000]).cast(pl.Utf8),
            pl.Series(numbers % 100_000_000).cast(pl.Utf8).str.zfill(8),
        )
    )
    return frame.select(
        "person_id",
        "SEX",
        "AGE",
        "name_zh",
        "name_latin",
        "national_id",
        "date_of_birth",
        "address",
        "phone",
        "address_latin",
    )


def _pinyin_upper(frame: pl.DataFrame, column: str) -> pl.Expr:
    """The column's Chinese text in upper-case toneless pinyin (converted once per value)."""
    spelled = {v: "".join(lazy_pinyin(v)).upper() for v in frame[column].unique()}
    return pl.col(column).replace_strict(spelled)


def _latin_address(frame: pl.DataFrame) -> pl.Expr:
    """A struct of line1, line2, city, region (ISO 3166-2:CN code) and postal_code.

    The postal code is the province's two-digit prefix followed by zeros: the synthetic
    addresses combine a city, a district and a street drawn independently, so no real code
    exists for them.
    """
    flat = pl.format(" BLDG {} RM {}", "_building", "_room")
    region = pl.col("_city").replace_strict(CITY_REGIONS, default=None)
    return pl.struct(
        line1=pl.concat_str(
            pl.col("_house_no").cast(pl.Utf8),
            pl.lit(" "),
            _pinyin_upper(frame, "_street"),
            pl.when(pl.col("_street_suffix") == "路").then(pl.lit(" LU")).otherwise(pl.lit(" JIE")),
        ),
        line2=pl.concat_str(
            _pinyin_upper(frame, "_district"),
            pl.lit(" QU"),
            pl.when("_flat").then(flat).otherwise(pl.lit("")),
        ),
        city=_pinyin_upper(frame, "_city"),
        region=region,
        postal_code=pl.concat_str(
            region.replace_strict(REGION_POSTAL_PREFIXES, default=None), pl.lit("0000")
        ),
    )


# The province (ISO 3166-2:CN code) of every city Faker's zh_CN locale draws from.
CITY_REGIONS: dict[str, str] = {
    "上海": "SH", "东莞": "GD", "乌鲁木齐": "XJ", "佛山": "GD", "六安": "AH", "六盘水": "GZ",
    "兰州": "GS", "关岭": "GZ", "兴城": "LN", "兴安盟": "NM", "北京": "BJ", "北镇": "LN",
    "南京": "JS", "南宁": "GX", "南昌": "JX", "合山": "GX", "合肥": "AH", "呼和浩特": "NM",
    "哈尔滨": "HL", "嘉禾": "HN", "大冶": "HB", "天津": "TJ", "太原": "SX", "宁德": "FJ",
    "宜都": "HB", "巢湖": "AH", "广州": "GD", "张家港": "JS", "惠州": "GD", "成都": "SC",
    "拉萨": "XZ", "昆明": "YN", "杭州": "ZJ", "柳州": "GX", "梧州": "GX", "武汉": "HB",
    "永安": "FJ", "汕尾": "GD", "沈阳": "LN", "济南": "SD", "海口": "HI", "海门": "JS",
    "淮安": "JS", "深圳": "GD", "潜江": "HB", "潮州": "GD", "石家庄": "HE", "福州": "FJ",
    "荆门": "HB", "西宁": "QH", "西安": "SN", "贵阳": "GZ", "辛集": "HE", "辽阳": "LN",
    "通辽": "NM", "邯郸": "HE", "郑州": "HA", "重庆": "CQ", "银川": "NX", "长春": "JL",
    "长沙": "HN", "阜新": "LN", "马鞍山": "AH", "齐齐哈尔": "HL",
}  # fmt: skip
# The first two digits of each province's postal codes.
REGION_POSTAL_PREFIXES: dict[str, str] = {
    "BJ": "10", "SH": "20", "TJ": "30", "CQ": "40", "HE": "05", "SX": "03", "NM": "01",
    "LN": "11", "JL": "13", "HL": "15", "JS": "21", "ZJ": "31", "AH": "23", "FJ": "35",
    "JX": "33", "SD": "25", "HA": "45", "HB": "43", "HN": "41", "GD": "51", "GX": "53",
    "HI": "57", "SC": "61", "GZ": "55", "YN": "65", "XZ": "85", "SN": "71", "GS": "73",
    "QH": "81", "NX": "75", "XJ": "83",
}  # fmt: skip


def _account_refs(accounts: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Unique, furnisher-specific account references (stable across periods)."""
    parts = []
    for i, f in enumerate(FURNISHERS):
        rows = accounts.filter(pl.col("furnisher") == i).select("row").sort("row")
        numbers = rng.choice(10**f.ref_digits, size=rows.height, replace=False)
        parts.append(
            rows.with_columns(
                account_ref=pl.concat_str(
                    pl.lit(f.ref_prefix),
                    pl.Series(numbers, dtype=pl.Int64).cast(pl.Utf8).str.zfill(f.ref_digits),
                )
            )
        )
    return accounts.join(pl.concat(parts), on="row", how="left").sort("row")


def _date_opened(accounts: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    lo = np.array([f.years_open[0] for f in FURNISHERS])[accounts["furnisher"].to_numpy()]
    hi = np.array([f.years_open[1] for f in FURNISHERS])[accounts["furnisher"].to_numpy()]
    days_before = np.floor((lo + rng.random(accounts.height) * (hi - lo)) * 365.25).astype(np.int64)
    opened = pl.lit(HISTORY_START) - pl.duration(days=pl.Series(days_before))
    adult = pl.col("date_of_birth").dt.offset_by(f"{MIN_AGE_AT_OPENING_YEARS}y")
    return accounts.with_columns(date_opened=pl.max_horizontal(opened, adult))


# ---------------------------------------------------------------------------------------------
# Records


def _period_records(accounts: pl.DataFrame, p: int) -> pl.DataFrame:
    """Native records of every account for period index ``p`` (0 = April 2005)."""
    year, month = (int(x) for x in PERIODS[p].split("-"))
    reporting_date = date(year, month, calendar.monthrange(year, month)[1])
    pay = pl.col(PAY_COLUMNS[p])
    months_late = pl.when(pay > 0).then(pay).otherwise(0)

    raw_balance = pl.max_horizontal(pl.col(BILL_COLUMNS[p]), 0)
    min_payment = pl.max_horizontal(
        (raw_balance * MIN_PAYMENT_RATE_PCT + 99) // 100, MIN_PAYMENT_FLOOR
    )
    past_due = (
        pl.when(months_late > 0)
        .then(pl.max_horizontal(pl.min_horizontal(raw_balance, months_late * min_payment), 1))
        .otherwise(0)
    )
    # First day of the month `months_late` months before the reporting month.
    month_index = year * 12 + (month - 1) - months_late
    first_late = pl.date(month_index // 12, month_index % 12 + 1, 1)
    dofd = (
        pl.when(months_late > 0)
        .then(pl.max_horizontal(first_late, "date_opened"))
        .otherwise(pl.lit(None, dtype=pl.Date))
    )
    # Position i = month i months before the reporting month; 'B' before April 2005.
    history = pl.concat_str(
        [pl.col(f"_hist{j}") for j in range(p - 1, -1, -1)]
        + [pl.lit("B" * (PAYMENT_HISTORY_LENGTH - p))]
    )
    return accounts.select(
        full_name=pl.when("latin_name").then("name_latin").otherwise("name_zh"),
        national_id_type=pl.lit(NationalIdType.CN_RIC.value),
        national_id="national_id",
        date_of_birth="date_of_birth",
        address="address",
        phone="phone",
        reporting_date=pl.lit(reporting_date),
        account_ref="account_ref",
        account_type=pl.lit(AccountType.REVOLVING.value),
        date_opened="date_opened",
        credit_limit="LIMIT_BAL",
        original_amount=pl.lit(None, dtype=pl.Int64),
        current_balance=pl.max_horizontal(raw_balance, past_due),
        amount_past_due=past_due,
        account_status=pay_to_status(pay),
        payment_history=history,
        date_first_delinquency=dofd,
        date_closed=pl.lit(None, dtype=pl.Date),
        currency=pl.lit(CURRENCY),
        member_code="member_code",
    ).with_columns(period=pl.lit(PERIODS[p]))


def build_demo_submissions(seed: int = 2005, limit: int | None = None) -> DemoData:
    """Build the demo's members, their 6 monthly submissions each, and the ground truth.

    ``limit`` keeps only the first ``limit`` dataset rows (for quick tests); identities then
    differ from the full build's, but the build is deterministic for each (seed, limit).
    """
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be a positive number of dataset rows, got {limit}")
    rng = np.random.default_rng(seed)
    rows = load_dataset(limit).with_row_index("row").with_columns(pl.col("row").cast(pl.Int64))

    rows = _assign_people(rows, rng)
    rows = rows.with_columns(person_no=pl.col("person_row").rank("dense").cast(pl.Int64))
    rows = rows.with_columns(
        person_id=pl.concat_str(pl.lit("TWP"), pl.col("person_no").cast(pl.Utf8).str.zfill(6))
    )
    persons = _make_identities(
        rows.filter(pl.col("row") == pl.col("person_row"))
        .sort("person_no")
        .select("person_id", "SEX", "AGE"),
        seed,
        rng,
    )
    codes = {i: f.code for i, f in enumerate(FURNISHERS)}
    accounts = (
        rows.join(persons.drop("SEX", "AGE"), on="person_id", how="left")
        .sort("row")
        .with_columns(member_code=pl.col("furnisher").replace_strict(codes, return_dtype=pl.Utf8))
    )
    accounts = _account_refs(accounts, rng)
    accounts = _date_opened(accounts, rng)
    accounts = accounts.with_columns(
        _history_char(pl.col(c)).alias(f"_hist{j}") for j, c in enumerate(PAY_COLUMNS)
    ).sort("row")

    records = pl.concat([_period_records(accounts, p) for p in range(len(PERIODS))])
    records = records.sort("member_code", "period", "account_ref")
    by_key = records.partition_by("member_code", "period", as_dict=True, include_key=False)
    submissions = [
        DemoSubmission(
            member_code=f.code,
            period=period,
            records=by_key[(f.code, period)].select(
                pl.col(name).cast(dtype) for name, dtype in RECORD_SCHEMA.items()
            ),
        )
        for f in FURNISHERS
        for period in PERIODS
        if (f.code, period) in by_key
    ]
    account_table = accounts.select(
        "member_code",
        "account_ref",
        "person_id",
        source_id="ID",
        default_next_month=pl.col(LABEL_COLUMN).cast(pl.Int8),
        latin_name="latin_name",
    )
    return DemoData(
        seed=seed,
        furnishers=list(FURNISHERS),
        submissions=submissions,
        accounts=account_table,
        persons=persons.rename({"SEX": "sex", "AGE": "age_2005"}),
    )


# ---------------------------------------------------------------------------------------------
# Writing files

SubmissionFormat = Literal["jsonl", "csv", "parquet"]
_SUFFIXES: dict[str, SubmissionFormat] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
}


def write_submission(
    frame: pl.DataFrame, path: str | Path, fmt: SubmissionFormat | None = None
) -> Path:
    """Write one submission frame as JSONL, CSV or Parquet (format from the suffix if None).

    JSONL and CSV carry dates as YYYY-MM-DD strings; Parquet keeps the native dtypes.
    """
    path = Path(path)
    if fmt is None:
        try:
            fmt = _SUFFIXES[path.suffix.lower()]
        except KeyError:
            raise ValueError(f"cannot infer the format from {path.name!r}") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        frame.write_parquet(path)
        return path
    text = frame.with_columns(pl.col(pl.Date).dt.strftime("%Y-%m-%d"))
    if fmt == "jsonl":
        text.write_ndjson(path)
    elif fmt == "csv":
        text.write_csv(path)
    else:
        raise ValueError(f"unknown format {fmt!r}; expected jsonl, csv or parquet")
    return path


def write_demo_submissions(
    data: DemoData, out_dir: str | Path, fmt: SubmissionFormat = "jsonl"
) -> list[Path]:
    """Write every submission as ``<out_dir>/<member_code>/<member_code>_<YYYY-MM>.<fmt>``."""
    out_dir = Path(out_dir)
    return [
        write_submission(
            s.records, out_dir / s.member_code / f"{s.member_code}_{s.period}.{fmt}", fmt
        )
        for s in data.submissions
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the demo's furnishing submissions.")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--format", choices=("jsonl", "csv", "parquet"), default="jsonl")
    parser.add_argument("--seed", type=int, default=2005)
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args(argv)
    data = build_demo_submissions(seed=args.seed, limit=args.limit)
    paths = write_demo_submissions(data, args.out_dir, args.format)
    data.accounts.write_csv(args.out_dir / "ground_truth_accounts.csv")
    print(f"wrote {len(paths)} submissions and ground_truth_accounts.csv to {args.out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
