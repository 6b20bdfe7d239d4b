"""The platform's monthly files in Metro 2, written from the demo's native records.

Metro 2 is a US format: its identification fields are a 9-digit SSN, a 10-digit NANP phone
and US dollars, in ASCII. The platform's consumers have 18-character resident IDs, Chinese
mobile numbers and New Taiwan dollar balances, so each base segment is followed by the
openbureau extension segment ``OB`` (see docs/metro2.md), which carries the resident ID, the
E.164 phone and the currency. The base segment stays standard: SSN and phone zero (the date
of birth satisfies the SSN-or-birth-date rule), the name in passport pinyin and the address
in Latin letters with country code CN.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from openbureau.furnishing.metro2 import write_file
from openbureau.furnishing.schema import AccountStatus

# Native status -> Metro 2 account status (the demo's cards are never closed or charged off).
STATUS_CODES: dict[str, str] = {
    AccountStatus.CURRENT: "11",
    AccountStatus.PAST_DUE_30: "71",
    AccountStatus.PAST_DUE_60: "78",
    AccountStatus.PAST_DUE_90: "80",
    AccountStatus.PAST_DUE_120: "82",
    AccountStatus.PAST_DUE_150: "83",
    AccountStatus.PAST_DUE_180: "84",
}
CREDIT_CARD = "18"  # Metro 2 account type


def write_metro2_submission(
    records: pl.DataFrame,
    persons: pl.DataFrame,
    path: str | Path,
    *,
    reporter_name: str,
    identification_number: str,
) -> Path:
    """Writes one month of native records (one furnisher) as a character Metro 2 file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    people = persons.select(
        "national_id",
        "address_latin",
        surname=pl.col("name_latin").str.split(" ").list.first().str.to_uppercase(),
        first_name=pl.col("name_latin").str.split(" ").list.last().str.to_uppercase(),
    )
    rows = (
        records.with_row_index("row")
        .join(people, on="national_id", how="left")
        .unnest("address_latin")
        .with_columns(record_no=pl.col("row").cast(pl.Int64) + 2)
    )
    base = rows.select(
        "record_no",
        processing_indicator=pl.lit(1),
        time_stamp=pl.col("reporting_date").cast(pl.Datetime("us")),
        correction_indicator=pl.lit(0),
        identification_number=pl.lit(identification_number),
        consumer_account_number="account_ref",
        portfolio_type=pl.lit("R"),
        account_type=pl.lit(CREDIT_CARD),
        date_opened="date_opened",
        credit_limit="credit_limit",
        terms_duration=pl.lit("REV"),
        terms_frequency=pl.lit("M"),
        account_status=pl.col("account_status").replace_strict(STATUS_CODES),
        payment_history_profile="payment_history",
        current_balance="current_balance",
        amount_past_due="amount_past_due",
        date_account_information="reporting_date",
        date_first_delinquency="date_first_delinquency",
        date_closed="date_closed",
        surname="surname",
        first_name="first_name",
        date_birth="date_of_birth",
        ecoa_code=pl.lit("1"),
        country_code=pl.lit("CN"),
        first_line_address="line1",
        second_line_address="line2",
        city="city",
        state="region",
        zip_code="postal_code",
    )
    extension = rows.select(
        "record_no",
        national_id_type=pl.col("national_id_type").str.to_uppercase(),
        national_id="national_id",
        telephone_e164="phone",
        currency="currency",
    )
    as_of = records["reporting_date"].max()
    header = {
        "equifax_program_identifier": identification_number,
        "activity_date": as_of,
        "date_created": as_of,
        "reporter_name": reporter_name.upper(),
        "reporter_address": "HANGZHOU ZHEJIANG CN",
        "software_vendor_name": "OPENBUREAU DEMO",
        "software_version_number": "1",
    }
    write_file(path, header, base, {"OB": extension})
    return path
