"""Metro 2 record layouts as data (fact sheet §5).

Every layout is a tuple of :class:`FieldSpec`. Offsets are 0-based from the first byte of the
record's RDW (a BDW, when present, is stripped by the framing layer before fields are sliced).
Kinds:

* ``RDW``  record descriptor word (4 ASCII digits, or BIN2+2 when packed)
* ``AN``   alphanumeric, left-justified, blank-filled
* ``N``    numeric, right-justified, zero-filled ASCII digits
* ``D8``   date MMDDYYYY, all zeros = empty
* ``TS14`` timestamp MMDDYYYYHHMMSS
* ``PN``   packed number (binary big-endian, or COMP-3)
* ``PD5``  packed date, ``PTS8`` packed timestamp
* ``RES``  reserved filler (sliced only when asked for, never validated)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldSpec:
    name: str
    offset: int  # 0-based
    length: int
    kind: str
    required: bool = False

    @property
    def end(self) -> int:
        return self.offset + self.length


def _table(rows: list[tuple[str, int, int, str, str]]) -> tuple[FieldSpec, ...]:
    """Rows are (name, 1-based start, length, kind, req) as in the fact sheet."""
    out = []
    prev_end = 0
    for name, start, length, kind, req in rows:
        if start - 1 != prev_end:
            raise AssertionError(f"layout gap/overlap before {name}")
        out.append(FieldSpec(name, start - 1, length, kind, req == "R"))
        prev_end = start - 1 + length
    return tuple(out)


HEADER_CHAR = _table([
    ("record_descriptor_word", 1, 4, "RDW", "R"),
    ("record_identifier", 5, 6, "AN", "R"),
    ("cycle_identifier", 11, 2, "AN", "A"),
    ("innovis_program_identifier", 13, 10, "AN", "A"),
    ("equifax_program_identifier", 23, 10, "AN", "A"),
    ("experian_program_identifier", 33, 5, "AN", "A"),
    ("transunion_program_identifier", 38, 10, "AN", "A"),
    ("activity_date", 48, 8, "D8", "R"),
    ("date_created", 56, 8, "D8", "R"),
    ("program_date", 64, 8, "D8", "O"),
    ("program_revision_date", 72, 8, "D8", "O"),
    ("reporter_name", 80, 40, "AN", "R"),
    ("reporter_address", 120, 96, "AN", "R"),
    ("reporter_telephone_number", 216, 10, "N", "O"),
    ("software_vendor_name", 226, 40, "AN", "A"),
    ("software_version_number", 266, 5, "AN", "A"),
    ("prbc_program_identifier", 271, 10, "AN", "A"),
    ("reserved", 281, 146, "RES", "O"),
])
HEADER_PACKED = HEADER_CHAR[:-1] + (FieldSpec("reserved", 280, 86, "RES"),)

_BASE_ROWS = [
    # name, char start, char len, char kind, packed len, packed kind, req
    ("record_descriptor_word", 4, "RDW", 4, "RDW", "R"),
    ("processing_indicator", 1, "N", 1, "N", "O"),
    ("time_stamp", 14, "TS14", 8, "PTS8", "O"),
    ("correction_indicator", 1, "N", 1, "N", "O"),
    ("identification_number", 20, "AN", 20, "AN", "R"),
    ("cycle_identifier", 2, "AN", 2, "AN", "A"),
    ("consumer_account_number", 30, "AN", 30, "AN", "R"),
    ("portfolio_type", 1, "AN", 1, "AN", "R"),
    ("account_type", 2, "AN", 2, "AN", "R"),
    ("date_opened", 8, "D8", 5, "PD5", "R"),
    ("credit_limit", 9, "N", 5, "PN", "A"),
    ("highest_credit", 9, "N", 5, "PN", "O"),
    ("terms_duration", 3, "AN", 3, "AN", "R"),
    ("terms_frequency", 1, "AN", 1, "AN", "A"),
    ("scheduled_monthly_payment_amount", 9, "N", 5, "PN", "A"),
    ("actual_payment_amount", 9, "N", 5, "PN", "A"),
    ("account_status", 2, "AN", 2, "AN", "R"),
    ("payment_rating", 1, "AN", 1, "AN", "A"),
    ("payment_history_profile", 24, "AN", 24, "AN", "R"),
    ("special_comment", 2, "AN", 2, "AN", "A"),
    ("compliance_condition_code", 2, "AN", 2, "AN", "A"),
    ("current_balance", 9, "N", 5, "PN", "A"),
    ("amount_past_due", 9, "N", 5, "PN", "A"),
    ("original_charge_off_amount", 9, "N", 5, "PN", "A"),
    ("date_account_information", 8, "D8", 5, "PD5", "R"),
    ("date_first_delinquency", 8, "D8", 5, "PD5", "A"),
    ("date_closed", 8, "D8", 5, "PD5", "A"),
    ("date_last_payment", 8, "D8", 5, "PD5", "A"),
    ("interest_type_indicator", 1, "AN", 1, "AN", "O"),
    ("reserved2", 17, "AN", 17, "AN", "O"),
    ("surname", 25, "AN", 25, "AN", "R"),
    ("first_name", 20, "AN", 20, "AN", "R"),
    ("middle_name", 20, "AN", 20, "AN", "A"),
    ("generation_code", 1, "AN", 1, "AN", "A"),
    ("social_security_number", 9, "N", 5, "PN", "O"),
    ("date_birth", 8, "D8", 5, "PD5", "O"),
    ("telephone_number", 10, "N", 6, "PN", "O"),
    ("ecoa_code", 1, "AN", 1, "AN", "R"),
    ("consumer_information_indicator", 2, "AN", 2, "AN", "A"),
    ("country_code", 2, "AN", 2, "AN", "O"),
    ("first_line_address", 32, "AN", 32, "AN", "R"),
    ("second_line_address", 32, "AN", 32, "AN", "A"),
    ("city", 20, "AN", 20, "AN", "R"),
    ("state", 2, "AN", 2, "AN", "R"),
    ("zip_code", 9, "AN", 9, "AN", "R"),
    ("address_indicator", 1, "AN", 1, "AN", "O"),
    ("residence_code", 1, "AN", 1, "AN", "O"),
]


def _sequential(rows: list[tuple[str, int, str, str]]) -> tuple[FieldSpec, ...]:
    out, pos = [], 0
    for name, length, kind, req in rows:
        out.append(FieldSpec(name, pos, length, kind, req == "R"))
        pos += length
    return tuple(out)


BASE_CHAR = _sequential([(n, cl, ck, r) for n, cl, ck, _pl, _pk, r in _BASE_ROWS])
BASE_PACKED = _sequential([(n, pl, pk, r) for n, _cl, _ck, pl, pk, r in _BASE_ROWS])

_TRAILER_COUNTS = [
    "total_base_records", "reserved1", "total_status_code_df", "total_consumer_segments_j1",
    "total_consumer_segments_j2", "block_count", "total_status_code_da", "total_status_code_05",
    "total_status_code_11", "total_status_code_13", "total_status_code_61",
    "total_status_code_62", "total_status_code_63", "total_status_code_64",
    "total_status_code_65", "total_status_code_71", "total_status_code_78",
    "total_status_code_80", "total_status_code_82", "total_status_code_83",
    "total_status_code_84", "total_status_code_88", "total_status_code_89",
    "total_status_code_93", "total_status_code_94", "total_status_code_95",
    "total_status_code_96", "total_status_code_97", "total_ecoa_code_z",
    "total_employment_segments", "total_original_creditor_segments",
    "total_purchased_to_segments", "total_mortgage_information_segments",
    "total_payment_information_segments", "total_change_segments",
    "total_social_numbers_all_segments", "total_social_numbers_base_segments",
    "total_social_numbers_j1_segments", "total_social_numbers_j2_segments",
    "total_dates_birth_all_segments", "total_dates_birth_base_segments",
    "total_dates_birth_j1_segments", "total_dates_birth_j2_segments",
    "total_telephone_numbers_all_segments",
]
_REQUIRED_TRAILER = {"total_base_records", "block_count"}


def _trailer(count_len: int, count_kind: str, tail: int) -> tuple[FieldSpec, ...]:
    rows: list[tuple[str, int, str, str]] = [
        ("record_descriptor_word", 4, "RDW", "R"),
        ("record_identifier", 7, "AN", "R"),
    ]
    for name in _TRAILER_COUNTS:
        if name == "reserved1":
            rows.append((name, count_len, "RES", "O"))
        else:
            rows.append((name, count_len, count_kind, "R" if name in _REQUIRED_TRAILER else "O"))
    rows.append(("reserved2", tail, "RES", "O"))
    return _sequential(rows)


TRAILER_CHAR = _trailer(9, "N", 19)
TRAILER_PACKED = _trailer(5, "PN", 135)
TRAILER_COUNT_FIELDS: tuple[str, ...] = tuple(n for n in _TRAILER_COUNTS if n != "reserved1")

SEGMENTS: dict[str, tuple[FieldSpec, ...]] = {
    "J1": _sequential([
        ("segment_identifier", 2, "AN", "R"),
        ("reserved1", 1, "RES", "O"),
        ("surname", 25, "AN", "R"),
        ("first_name", 20, "AN", "R"),
        ("middle_name", 20, "AN", "A"),
        ("generation_code", 1, "AN", "A"),
        ("social_security_number", 9, "N", "O"),
        ("date_birth", 8, "D8", "O"),
        ("telephone_number", 10, "N", "O"),
        ("ecoa_code", 1, "AN", "R"),
        ("consumer_information_indicator", 2, "AN", "A"),
        ("reserved2", 1, "RES", "O"),
    ]),
    "J2": _sequential([
        ("segment_identifier", 2, "AN", "R"),
        ("reserved1", 1, "RES", "O"),
        ("surname", 25, "AN", "R"),
        ("first_name", 20, "AN", "O"),
        ("middle_name", 20, "AN", "A"),
        ("generation_code", 1, "AN", "A"),
        ("social_security_number", 9, "N", "O"),
        ("date_birth", 8, "D8", "O"),
        ("telephone_number", 10, "N", "O"),
        ("ecoa_code", 1, "AN", "R"),
        ("consumer_information_indicator", 2, "AN", "A"),
        ("country_code", 2, "AN", "O"),
        ("first_line_address", 32, "AN", "R"),
        ("second_line_address", 32, "AN", "A"),
        ("city", 20, "AN", "R"),
        ("state", 2, "AN", "R"),
        ("zip_code", 9, "AN", "R"),
        ("address_indicator", 1, "AN", "O"),
        ("residence_code", 1, "AN", "O"),
        ("reserved2", 2, "RES", "O"),
    ]),
    "K1": _sequential([
        ("segment_identifier", 2, "AN", "R"),
        ("original_creditor_name", 30, "AN", "R"),
        ("creditor_classification", 2, "N", "R"),
    ]),
    "K2": _sequential([
        ("segment_identifier", 2, "AN", "R"),
        ("purchased_indicator", 1, "N", "R"),
        ("purchased_name", 30, "AN", "O"),
        ("reserved", 1, "RES", "O"),
    ]),
    "K3": _sequential([
        ("segment_identifier", 2, "AN", "R"),
        ("agency_identifier", 2, "N", "A"),
        ("account_number", 18, "AN", "A"),
        ("mortgage_identification_number", 18, "AN", "O"),
    ]),
    "K4": _sequential([
        ("segment_identifier", 2, "AN", "R"),
        ("specialized_payment_indicator", 2, "N", "R"),
        ("deferred_payment_start_date", 8, "D8", "A"),
        ("balloon_payment_due_date", 8, "D8", "A"),
        ("balloon_payment_amount", 9, "N", "A"),
        ("reserved", 1, "RES", "O"),
    ]),
    "L1": _sequential([
        ("segment_identifier", 2, "AN", "R"),
        ("change_indicator", 1, "N", "R"),
        ("new_consumer_account_number", 30, "AN", "A"),
        ("new_identification_number", 20, "AN", "A"),
        ("reserved", 1, "RES", "O"),
    ]),
    "N1": _sequential([
        ("segment_identifier", 2, "AN", "R"),
        ("employer_name", 30, "AN", "R"),
        ("first_line_employer_address", 32, "AN", "O"),
        ("second_line_employer_address", 32, "AN", "O"),
        ("employer_city", 20, "AN", "O"),
        ("employer_state", 2, "AN", "O"),
        ("zip_code", 9, "AN", "O"),
        ("occupation", 18, "AN", "A"),
        ("reserved", 1, "RES", "O"),
    ]),
    # openbureau extension, not CDIA: the consumer's identification where the base's US
    # fields cannot hold it (an 18-character resident ID, a non-NANP phone, another
    # currency). Appended last, so a reader that stops at the first unknown identifier
    # (moov-io) still reads every standard segment; no trailer count covers it.
    "OB": _sequential([
        ("segment_identifier", 2, "AN", "R"),
        ("national_id_type", 8, "AN", "R"),
        ("national_id", 20, "AN", "R"),
        ("telephone_e164", 16, "AN", "O"),
        ("currency", 3, "AN", "O"),
        ("reserved", 11, "RES", "O"),
    ]),
}
# Standard segments in CDIA order, then the openbureau extension.
SEGMENT_ORDER: tuple[str, ...] = ("J1", "J2", "K1", "K2", "K3", "K4", "L1", "N1", "OB")
EXTENSION_SEGMENTS = frozenset({"OB"})
SEGMENT_LENGTHS: dict[str, int] = {k: v[-1].end for k, v in SEGMENTS.items()}
# Segments that may occur at most once per base record (a second one is a rejection).
SINGLE_SEGMENTS = frozenset({"K1", "K2", "K3", "K4", "L1", "N1", "OB"})

CHAR_BASE_LENGTH = 426
PACKED_BASE_LENGTH = 366


def base_layout(packed: bool) -> tuple[FieldSpec, ...]:
    return BASE_PACKED if packed else BASE_CHAR


def header_layout(packed: bool) -> tuple[FieldSpec, ...]:
    return HEADER_PACKED if packed else HEADER_CHAR


def trailer_layout(packed: bool) -> tuple[FieldSpec, ...]:
    return TRAILER_PACKED if packed else TRAILER_CHAR


assert BASE_CHAR[-1].end == CHAR_BASE_LENGTH
assert BASE_PACKED[-1].end == PACKED_BASE_LENGTH
assert HEADER_CHAR[-1].end == CHAR_BASE_LENGTH and HEADER_PACKED[-1].end == PACKED_BASE_LENGTH
assert TRAILER_CHAR[-1].end == CHAR_BASE_LENGTH
assert TRAILER_PACKED[-1].end == PACKED_BASE_LENGTH
assert SEGMENT_LENGTHS == {
    "J1": 100, "J2": 200, "K1": 34, "K2": 34, "K3": 40, "K4": 30, "L1": 54, "N1": 146,
    "OB": 60,
}
