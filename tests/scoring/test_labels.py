"""Label definition grammar and label building."""

from __future__ import annotations

import datetime as dt

import pytest
from scoring_helpers import tl, tl_frame

from openbureau.scoring.errors import (
    DefinitionError,
    EmptyDefinitionError,
    NoPerformanceDataError,
)
from openbureau.scoring.labels import Clause, build_labels, parse_definition


def test_parse_valid_definitions():
    assert parse_definition("worst_status>=past_due_90 within 12") == (
        Clause("worst_status", ">=", 3, 12),
    )
    assert parse_definition("WORST_STATUS >= 3 within 12 months") == (
        Clause("worst_status", ">=", 3, 12),
    )
    two = parse_definition("worst_status>=charge_off within 6 or amount_past_due>1000 within 3")
    assert two == (Clause("worst_status", ">=", 8, 6), Clause("amount_past_due", ">", 1000, 3))
    assert parse_definition("balance = 0 within 1 month") == (Clause("balance", "==", 0, 1),)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "worst_status>=past_due_90",  # no window
        "worst_status>=past_due_91 within 12",  # unknown status
        "worst_stat>=past_due_90 within 12",  # unknown metric
        "amount_past_due>=past_due_90 within 12",  # status value on a money metric
        "worst_status>=9 within 12",  # severity out of range
        "worst_status>=3 within 0",
        "worst_status>=3 within 121",
        "__import__('os').system('true') within 1",
        "worst_status>=3 within 12 and balance>0 within 12",
    ],
)
def test_parse_rejects_bad_definitions(text):
    with pytest.raises(DefinitionError):
        parse_definition(text)


OBS = dt.date(2025, 3, 31)


def _history():
    rows = []
    months = [dt.date(2025, m, 28) for m in range(1, 13)]
    for m in months:
        # subject 1: goes 90+ in June (inside a 12-month window)
        rows.append(tl(1, "A", m, status="past_due_90" if m.month == 6 else "current"))
        # subject 2: always current
        rows.append(tl(2, "B", m))
        # subject 3: 60 days late in May, 90 in 2026 (outside the window)
        rows.append(tl(3, "C", m, status="past_due_60" if m.month == 5 else "current"))
    rows.append(tl(3, "C", dt.date(2026, 6, 30), status="past_due_90"))
    # subject 4: first seen after the observation date -> not in the population
    rows.append(tl(4, "D", dt.date(2025, 6, 30), status="charge_off"))
    return tl_frame(rows)


def test_build_labels_window_and_population():
    labels = build_labels(_history(), OBS, "worst_status>=past_due_90 within 12")
    assert dict(labels.iter_rows()) == {1: 1, 2: 0, 3: 0}
    short = build_labels(_history(), OBS, "worst_status>=past_due_60 within 2")
    assert dict(short.iter_rows()) == {1: 0, 2: 0, 3: 1}
    either = build_labels(_history(), OBS, "worst_status>=3 within 12 or worst_status>=2 within 2")
    assert dict(either.iter_rows()) == {1: 1, 2: 0, 3: 1}


def test_observation_date_without_later_data():
    with pytest.raises(NoPerformanceDataError, match="after the observation date"):
        build_labels(_history(), dt.date(2026, 7, 1), "worst_status>=past_due_90 within 12")


def test_definition_matching_nothing():
    with pytest.raises(EmptyDefinitionError, match="matches no subject"):
        build_labels(_history(), OBS, "worst_status>=charge_off within 12")
