"""What Metro 2's appended segments add reaches the credit file, through the submission path.

Each test submits real Metro 2 files (written by the codec's writer) and looks at the result
the way members do: a report from an inquiry, or the stored rows where storage is the point.
"""

from __future__ import annotations

import calendar
import datetime as dt
from pathlib import Path

import orjson
import polars as pl
import pytest
from sqlalchemy import func, select, text

from openbureau.files.tables import (
    account_consumers,
    account_employment,
    account_number_changes,
    account_segments,
    tradelines,
)
from openbureau.furnishing.metro2 import write_file
from openbureau.furnishing.metro2.sample import HEADER, current_revolving, sample_base
from openbureau.furnishing.submit import submit_file
from openbureau.governance.audit import verify_chain
from openbureau.governance.members import Role
from openbureau.reports.inquiry import InquiryIdentity, make_inquiry

PRIMARY = {"first_name": "JOHN", "surname": "SMITH", "ssn": 123456789, "dob": dt.date(1980, 1, 2)}
JOINT = {"first_name": "MARY", "surname": "SMITH", "ssn": 234567891, "dob": dt.date(1982, 3, 4)}
USER = {"first_name": "ANN", "surname": "LEE", "ssn": 345678912, "dob": dt.date(2001, 5, 6)}


def _month_end(period: str) -> dt.date:
    year, month = int(period[:4]), int(period[5:])
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _base(period: str, account: str = "ACCT-1", balance: int = 1200, person=PRIMARY, **cols):
    """One clean, current revolving account for `person`, as of the end of `period`."""
    as_of = _month_end(period)
    values = dict(
        consumer_account_number=pl.lit(account),
        **current_revolving(as_of),
        time_stamp=pl.lit(dt.datetime.combine(as_of, dt.time(12))),
        current_balance=pl.lit(balance),
        first_name=pl.lit(person["first_name"]),
        middle_name=pl.lit(""),
        generation_code=pl.lit(""),
        surname=pl.lit(person["surname"]),
        social_security_number=pl.lit(person["ssn"]),
        date_birth=pl.lit(person["dob"]),
        ecoa_code=pl.lit("1"),
    )
    return sample_base(1, seed=7).with_columns(**(values | {k: pl.lit(v) for k, v in cols.items()}))


def _consumer(record_no: int, person: dict, ecoa: str, seq: int = 0) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "record_no": [record_no],
            "seq": [seq],
            "surname": [person["surname"]],
            "first_name": [person["first_name"]],
            "social_security_number": [person["ssn"]],
            "date_birth": [person["dob"]],
            "ecoa_code": [ecoa],
        }
    )


def _write(path: Path, base: pl.DataFrame, segments: dict | None = None, **header) -> Path:
    as_of = base["date_account_information"].max()
    write_file(
        path,
        HEADER | {"activity_date": as_of, "date_created": as_of + dt.timedelta(days=1)} | header,
        base,
        segments,
    )
    return path


def _identity(person: dict) -> InquiryIdentity:
    name = f"{person['first_name']} {person['surname']}"
    return InquiryIdentity(name, "us_ssn", f"{person['ssn']:09d}", person["dob"])


def _report(bureau, lender, person: dict) -> dict:
    with bureau.sessions() as session:
        report = make_inquiry(bureau, session, lender, _identity(person), "loan_approval", "C-1")
        session.commit()
    return report


@pytest.fixture
def parties(members):
    furnisher, _ = members.add("usbank", Role.FURNISHER)
    lender, _ = members.add("lender", Role.SUBSCRIBER)
    return furnisher, lender


def _submit(bureau, member, path: Path) -> dict:
    report, _ = submit_file(bureau, member, path, actor="test")
    assert report["rejected"] == 0, report["errors"]
    return report


def _count(bureau, table) -> int:
    with bureau.sessions() as session:
        return session.execute(select(func.count()).select_from(table)).scalar_one()


def test_associated_consumers_see_the_account_with_their_ecoa_role(bureau, parties, tmp_path):
    furnisher, lender = parties
    base = _base("2026-08")
    segments = {
        "J1": _consumer(2, JOINT, "2"),
        "J2": _consumer(2, USER, "3", seq=1).with_columns(
            first_line_address=pl.lit("9 ELM ST"),
            city=pl.lit("BRISTOL"),
            state=pl.lit("CT"),
            zip_code=pl.lit("06010"),
        ),
    }
    report = _submit(bureau, furnisher, _write(tmp_path / "aug.m2", base, segments))
    assert report["associated_consumers_linked"] == 2

    primary = _report(bureau, lender, PRIMARY)["accounts"]
    joint = _report(bureau, lender, JOINT)["accounts"]
    user = _report(bureau, lender, USER)["accounts"]
    assert [(a["role"], a["associated_consumer"]) for a in primary] == [("individual", False)]
    assert [(a["role"], a["ecoa_code"], a["associated_consumer"]) for a in joint] == [
        ("joint", "2", True)
    ]
    assert [a["role"] for a in user] == ["authorized_user"]
    # The same account, with the same history, in all three files.
    assert joint[0]["history"] == primary[0]["history"] == user[0]["history"]
    assert joint[0]["current_balance"] == 1200
    # Each associated consumer became a subject with their own identity on file.
    with bureau.sessions() as session:
        subjects = session.execute(text("SELECT count(*) FROM subjects")).scalar_one()
    assert subjects == 3


def test_ecoa_z_takes_the_account_out_of_that_consumers_file(bureau, parties, tmp_path):
    furnisher, lender = parties
    aug = _write(tmp_path / "aug.m2", _base("2026-08"), {"J1": _consumer(2, JOINT, "2")})
    _submit(bureau, furnisher, aug)
    assert len(_report(bureau, lender, JOINT)["accounts"]) == 1
    sep = _write(tmp_path / "sep.m2", _base("2026-09"), {"J1": _consumer(2, JOINT, "Z")})
    _submit(bureau, furnisher, sep)
    still_known = _report(bureau, lender, JOINT)
    assert still_known["result"] == "hit" and still_known["accounts"] == []
    assert len(_report(bureau, lender, PRIMARY)["accounts"]) == 1
    # T (terminated) keeps the account in the file, shown as terminated.
    oct_ = _write(tmp_path / "oct.m2", _base("2026-10"), {"J1": _consumer(2, JOINT, "T")})
    _submit(bureau, furnisher, oct_)
    assert [a["role"] for a in _report(bureau, lender, JOINT)["accounts"]] == ["terminated"]


def test_a_renumbered_account_continues_its_history(bureau, parties, tmp_path):
    furnisher, lender = parties
    _submit(bureau, furnisher, _write(tmp_path / "jul.m2", _base("2026-07", "OLD-1", 700)))
    change = pl.DataFrame(
        {"record_no": [2], "change_indicator": [1], "new_consumer_account_number": ["NEW-9"]}
    )
    aug = _write(tmp_path / "aug.m2", _base("2026-08", "OLD-1", 800), {"L1": change})
    _submit(bureau, furnisher, aug)
    _submit(bureau, furnisher, _write(tmp_path / "sep.m2", _base("2026-09", "NEW-9", 900)))

    accounts = _report(bureau, lender, PRIMARY)["accounts"]
    assert len(accounts) == 1
    assert accounts[0]["account_ref"] is None  # another member's account number stays hidden
    assert accounts[0]["current_balance"] == 900 and accounts[0]["last_reported"] == "2026-09"
    with bureau.sessions() as session:
        rows = session.execute(
            select(tradelines.c.account_ref, tradelines.c.period).order_by(tradelines.c.period)
        ).all()
    assert rows == [("OLD-1", "2026-07"), ("OLD-1", "2026-08"), ("OLD-1", "2026-09")]
    # The same L1 file again (a different file: new creation date) changes nothing.
    again = _write(
        tmp_path / "aug2.m2",
        _base("2026-08", "OLD-1", 800),
        {"L1": change},
        date_created=dt.date(2026, 9, 3),
    )
    _submit(bureau, furnisher, again)
    assert _count(bureau, account_number_changes) == 1 and _count(bureau, tradelines) == 3


def test_renumbering_onto_another_accounts_number_is_refused(bureau, parties, tmp_path):
    furnisher, _ = parties
    both = pl.concat(
        [
            _base("2026-07", "A-1"),
            _base("2026-07", "B-2", person=JOINT).with_columns(record_no=pl.lit(3, pl.Int64)),
        ]
    )
    _submit(bureau, furnisher, _write(tmp_path / "jul.m2", both))
    change = pl.DataFrame(
        {"record_no": [2], "change_indicator": [1], "new_consumer_account_number": ["B-2"]}
    )
    path = _write(tmp_path / "aug.m2", _base("2026-08", "A-1"), {"L1": change})
    report, _ = submit_file(bureau, furnisher, path, actor="test")
    assert report["rejected"] == 1
    assert report["errors"][0]["rule"] == "account_number_in_use"
    assert _count(bureau, account_number_changes) == 0


def test_a_sold_account_and_its_buyers_account_count_the_debt_once(bureau, members, tmp_path):
    seller, _ = members.add("bank", Role.FURNISHER)
    buyer, _ = members.add("debtbuyer", Role.FURNISHER)
    lender, _ = members.add("lender", Role.SUBSCRIBER)
    sold = _base("2026-08", "S-1", 0, account_status="05", payment_rating="0")
    k2_sold = pl.DataFrame(
        {"record_no": [2], "purchased_indicator": [2], "purchased_name": ["DEBT BUYER LLC"]}
    )
    _submit(bureau, seller, _write(tmp_path / "seller.m2", sold, {"K2": k2_sold}))
    bought = _base("2026-08", "P-77", 1500)
    k2_bought = pl.DataFrame(
        {"record_no": [2], "purchased_indicator": [1], "purchased_name": ["BANK NA"]}
    )
    k1 = pl.DataFrame(
        {"record_no": [2], "original_creditor_name": ["BANK NA"], "creditor_classification": [8]}
    )
    path = _write(tmp_path / "buyer.m2", bought, {"K1": k1, "K2": k2_bought})
    _submit(bureau, buyer, path)

    report = _report(bureau, lender, PRIMARY)
    by_status = {a["account_status"]: a for a in report["accounts"]}
    assert by_status["transferred"]["sold_to"] == "DEBT BUYER LLC"
    assert by_status["current"]["purchased_from"] == "BANK NA"
    assert by_status["current"]["original_creditor"] == {
        "name": "BANK NA",
        "classification": "banking",
    }
    assert report["summary"]["total_balance"] == 1500
    assert report["summary"]["open_accounts"] == 1
    # K2 indicator 9 removes the earlier K2.
    removed = pl.DataFrame({"record_no": [2], "purchased_indicator": [9], "purchased_name": [""]})
    later = _write(tmp_path / "buyer-sep.m2", _base("2026-09", "P-77", 1400), {"K2": removed})
    _submit(bureau, buyer, later)
    report = _report(bureau, lender, PRIMARY)
    bought_view = next(a for a in report["accounts"] if a["account_status"] == "current")
    assert "purchased_from" not in bought_view and bought_view["original_creditor"]


def test_employment_is_kept_encrypted(bureau, parties, tmp_path):
    furnisher, _ = parties
    n1 = pl.DataFrame(
        {
            "record_no": [2],
            "employer_name": ["ZEPHYRINE WIDGETS"],
            "first_line_employer_address": ["77 QUARRY RD"],
            "employer_city": ["FRANKLIN"],
            "occupation": ["WELDER"],
        }
    )
    _submit(bureau, furnisher, _write(tmp_path / "aug.m2", _base("2026-08"), {"N1": n1}))
    with bureau.sessions() as session:
        stored = session.execute(select(account_employment)).one()
    assert b"ZEPHYRINE" not in stored.employment_enc and b"QUARRY" not in stored.employment_enc
    plain = bureau.keys.decrypt(stored.employment_enc)
    assert "ZEPHYRINE WIDGETS" in plain and "WELDER" in plain
    assert stored.subject_id is not None
    if bureau.engine.dialect.name == "sqlite":  # nothing in clear anywhere in the database
        bureau.engine.dispose()
        raw = Path(bureau.engine.url.database).read_bytes()
        wal = Path(bureau.engine.url.database + "-wal")
        raw += wal.read_bytes() if wal.exists() else b""
        assert b"ZEPHYRINE" not in raw and b"QUARRY" not in raw


def test_resubmission_changes_nothing_and_a_correction_replaces(bureau, parties, tmp_path):
    furnisher, lender = parties
    segments = {
        "J1": _consumer(2, JOINT, "2"),
        "K1": pl.DataFrame(
            {"record_no": [2], "original_creditor_name": ["ACME"], "creditor_classification": [1]}
        ),
        "N1": pl.DataFrame({"record_no": [2], "employer_name": ["ACME CORP"]}),
    }
    path = _write(tmp_path / "aug.m2", _base("2026-08"), segments)
    _submit(bureau, furnisher, path)
    tables = (tradelines, account_consumers, account_segments, account_employment)
    before = [_count(bureau, t) for t in tables]
    assert before == [1, 1, 1, 1]
    again, replay = submit_file(bureau, furnisher, path, actor="test")
    assert replay
    same_content = _write(
        tmp_path / "aug-again.m2", _base("2026-08"), segments, date_created=dt.date(2026, 9, 5)
    )
    _submit(bureau, furnisher, same_content)
    assert [_count(bureau, t) for t in tables] == before
    # A correction of August without the J1 and the K1: their rows go, the account stays.
    corrected = _write(
        tmp_path / "aug-fix.m2",
        _base("2026-08", correction_indicator=1),
        {"N1": segments["N1"]},
        date_created=dt.date(2026, 9, 6),
    )
    _submit(bureau, furnisher, corrected)
    assert [_count(bureau, t) for t in tables] == [1, 0, 0, 1]
    assert _report(bureau, lender, JOINT)["result"] == "hit"
    assert _report(bureau, lender, JOINT)["accounts"] == []
    assert "original_creditor" not in _report(bureau, lender, PRIMARY)["accounts"][0]


def test_over_http_a_joint_holder_gets_the_account_in_their_report(client, members, tmp_path):
    _, furnisher_key = members.add("usbank", Role.FURNISHER)
    _, lender_key = members.add("lender", Role.SUBSCRIBER)
    path = _write(tmp_path / "aug.m2", _base("2026-08"), {"J1": _consumer(2, JOINT, "2")})
    auth = {"Authorization": f"Bearer {furnisher_key}"}
    sent = client.post(
        "/v1/submissions", headers=auth, files={"file": ("aug.m2", path.read_bytes())}
    )
    assert sent.status_code in (200, 201), sent.text
    assert sent.json()["associated_consumers_linked"] == 1
    identity = {
        "full_name": "Mary Smith",
        "national_id_type": "us_ssn",
        "national_id": "234-56-7891",
        "date_of_birth": JOINT["dob"].isoformat(),
    }
    body = {"identity": identity, "purpose": "loan_approval", "consent_reference": "C-9"}
    response = client.post(
        "/v1/inquiries", headers={"Authorization": f"Bearer {lender_key}"}, json=body
    )
    assert response.status_code == 200, response.text
    [account] = response.json()["accounts"]
    assert (account["role"], account["associated_consumer"]) == ("joint", True)
    assert account["furnisher"] == "another member" and account["account_ref"] is None


def _audit_events(bureau, action: str) -> list[dict]:
    with bureau.sessions() as session:
        rows = session.execute(
            text("SELECT detail FROM audit_events WHERE action = :a ORDER BY seq"), {"a": action}
        ).all()
    return [orjson.loads(r[0]) for r in rows]


def test_a_delete_request_removes_the_account_from_every_file(bureau, parties, tmp_path):
    furnisher, lender = parties
    aug = pl.concat(
        [
            _base("2026-08", "ACCT-1"),
            _base("2026-08", "ACCT-2", 300).with_columns(record_no=pl.lit(3, pl.Int64)),
        ]
    )
    segments = {
        "J1": _consumer(2, JOINT, "2"),
        "K1": pl.DataFrame(
            {"record_no": [2], "original_creditor_name": ["ACME"], "creditor_classification": [1]}
        ),
        "N1": pl.DataFrame({"record_no": [2], "employer_name": ["ACME CORP"]}),
    }
    _submit(bureau, furnisher, _write(tmp_path / "aug.m2", aug, segments))
    assert len(_report(bureau, lender, PRIMARY)["accounts"]) == 2
    assert len(_report(bureau, lender, JOINT)["accounts"]) == 1

    sep = pl.concat(
        [
            _base("2026-09", "ACCT-1", account_status="DA"),
            _base("2026-09", "ACCT-2", 250).with_columns(record_no=pl.lit(3, pl.Int64)),
        ]
    )
    report = _submit(bureau, furnisher, _write(tmp_path / "sep.m2", sep))
    assert (report["records"], report["accepted"]) == (2, 2)
    assert (report["delete_requests"], report["accounts_deleted"]) == (1, 1)

    accounts = _report(bureau, lender, PRIMARY)["accounts"]
    assert [a["current_balance"] for a in accounts] == [250]
    assert _report(bureau, lender, JOINT)["accounts"] == []
    tables = (tradelines, account_consumers, account_segments, account_employment)
    assert [_count(bureau, t) for t in tables] == [2, 0, 0, 0]
    [event] = _audit_events(bureau, "submission.delete_accounts")
    [deleted] = event["accounts"]
    assert (deleted["account_ref"], deleted["status"], deleted["rows"]) == ("ACCT-1", "DA", 1)
    assert len(deleted["subject_ids"]) == 2  # the primary and the joint consumer
    with bureau.sessions() as session:
        assert verify_chain(session).ok


def test_a_fraud_delete_under_a_later_number_deletes_the_kept_account(bureau, parties, tmp_path):
    furnisher, lender = parties
    change = pl.DataFrame(
        {"record_no": [2], "change_indicator": [1], "new_consumer_account_number": ["NEW-9"]}
    )
    _submit(bureau, furnisher, _write(tmp_path / "jul.m2", _base("2026-07", "OLD-1")))
    aug = _write(tmp_path / "aug.m2", _base("2026-08", "OLD-1"), {"L1": change})
    _submit(bureau, furnisher, aug)
    assert _count(bureau, tradelines) == 2
    sep = _write(tmp_path / "sep.m2", _base("2026-09", "NEW-9", account_status="DF"))
    report = _submit(bureau, furnisher, sep)
    assert report["accounts_deleted"] == 1
    assert _count(bureau, tradelines) == 0 and _count(bureau, account_number_changes) == 0
    [event] = _audit_events(bureau, "submission.delete_accounts")
    assert [(a["account_ref"], a["status"], a["rows"]) for a in event["accounts"]] == [
        ("OLD-1", "DF", 2)
    ]
    # The consumer is still known to the bureau, with an empty file from this furnisher.
    assert _report(bureau, lender, PRIMARY)["accounts"] == []


def test_a_delete_request_for_an_unknown_account_deletes_nothing(bureau, parties, tmp_path):
    furnisher, lender = parties
    _submit(bureau, furnisher, _write(tmp_path / "aug.m2", _base("2026-08", "ACCT-1")))
    sep = _write(tmp_path / "sep.m2", _base("2026-09", "ACCT-7", account_status="DA"))
    report = _submit(bureau, furnisher, sep)
    assert (report["delete_requests"], report["accounts_deleted"]) == (1, 0)
    assert _count(bureau, tradelines) == 1
    assert _audit_events(bureau, "submission.delete_accounts") == []
    assert len(_report(bureau, lender, PRIMARY)["accounts"]) == 1


def test_another_members_delete_request_leaves_the_account_alone(bureau, members, tmp_path):
    first, _ = members.add("usbank", Role.FURNISHER)
    other, _ = members.add("otherbank", Role.FURNISHER)
    _submit(bureau, first, _write(tmp_path / "aug.m2", _base("2026-08", "ACCT-1")))
    sep = _write(tmp_path / "sep.m2", _base("2026-09", "ACCT-1", account_status="DA"))
    report = _submit(bureau, other, sep)
    assert report["accounts_deleted"] == 0
    assert _count(bureau, tradelines) == 1


def test_a_deleted_accounts_open_identity_review_is_withdrawn(bureau, parties, tmp_path):
    furnisher, _ = parties
    _submit(bureau, furnisher, _write(tmp_path / "aug.m2", _base("2026-08", "ACCT-1")))
    stranger = PRIMARY | {"first_name": "OTTO", "surname": "KRAUS", "dob": dt.date(1950, 7, 8)}
    sep = _write(tmp_path / "sep.m2", _base("2026-09", "ACCT-2", person=stranger))
    assert _submit(bureau, furnisher, sep)["held_for_identity_review"] == 1
    oct_ = _write(tmp_path / "oct.m2", _base("2026-10", "ACCT-2", account_status="DA"))
    assert _submit(bureau, furnisher, oct_)["accounts_deleted"] == 1
    with bureau.sessions() as session:
        statuses = session.execute(text("SELECT account_ref, status FROM review_items")).all()
    assert statuses == [("ACCT-2", "withdrawn")]
    assert _count(bureau, tradelines) == 1


@pytest.fixture(scope="module")
def scorecard():
    """A scorecard trained on generated files: any model does, the tests below are about
    which accounts it is given."""
    from openbureau.scoring.attributes import compute_attributes_batch
    from openbureau.scoring.synth import synthetic_bureau
    from openbureau.scoring.train import TrainingSpec, train_scorecard

    as_of = dt.date(2026, 9, 30)
    lines, asks, risk = synthetic_bureau(2000, end=as_of, n_periods=3, seed=3)
    labels = pl.DataFrame(
        {"subject_id": range(1, risk.size + 1), "label": (risk > 0.8).astype("int8")}
    )
    sample = compute_attributes_batch(lines, asks, as_of).join(labels, on="subject_id")
    return train_scorecard(sample, TrainingSpec(model_version="associated-test"))


def _activate(bureau, model) -> None:
    from openbureau.scoring.registry import promote, register

    with bureau.sessions() as session, session.begin():
        register(session, model, {"observation": "2026-09"}, None, "test")
        promote(session, model.version, "test")


def _scored_accounts(bureau, table) -> list[tuple[str, str]]:
    """(account_ref, period) of the rows the score of a file is computed from: the file of
    the subject `table` (tradelines: the primary consumer; account_consumers: the J1)
    names."""
    from openbureau.scoring.frames import subject_frames

    with bureau.sessions() as session:
        subject_id = session.execute(select(func.max(table.c.subject_id))).scalar_one()
        lines, _ = subject_frames(session, subject_id)
    return sorted(zip(lines["account_ref"], lines["period"], strict=True))


def test_associated_consumers_scores_count_the_account_until_ecoa_z(
    bureau, parties, tmp_path, scorecard
):
    furnisher, lender = parties
    _activate(bureau, scorecard)
    for period, ecoa in (("2026-08", "2"), ("2026-09", "2")):
        _submit(
            bureau,
            furnisher,
            _write(tmp_path / f"{period}.m2", _base(period), {"J1": _consumer(2, JOINT, ecoa)}),
        )
    months = [("ACCT-1", "2026-08"), ("ACCT-1", "2026-09")]
    assert _scored_accounts(bureau, account_consumers) == months
    assert _scored_accounts(bureau, tradelines) == months
    primary, joint = _report(bureau, lender, PRIMARY), _report(bureau, lender, JOINT)
    assert joint["score"]["model_version"] == "associated-test"
    assert joint["score"].get("reason") != "the file holds no accounts"
    # the same account and no inquiry before the file's month end: the same score
    assert joint["score"] == primary["score"]

    # ECOA Z in the latest period takes the account out of the joint consumer's file and score
    z = _write(tmp_path / "2026-10.m2", _base("2026-10"), {"J1": _consumer(2, JOINT, "Z")})
    _submit(bureau, furnisher, z)
    assert _scored_accounts(bureau, account_consumers) == []
    after = _report(bureau, lender, JOINT)
    assert after["accounts"] == []
    assert after["score"]["reason"] == "the file holds no accounts"
    assert len(_scored_accounts(bureau, tradelines)) == 3


def test_batch_scores_of_associated_consumers_are_served_until_their_account_changes(
    bureau, parties, tmp_path, scorecard
):
    """score-all stores the joint consumer's score under the state of its file, joint account
    included: a new month of that account makes the stored score stale."""
    from openbureau.scoring.precompute import score_all
    from openbureau.scoring.tables import subject_scores

    furnisher, lender = parties
    _activate(bureau, scorecard)
    aug = _write(tmp_path / "aug.m2", _base("2026-08"), {"J1": _consumer(2, JOINT, "2")})
    _submit(bureau, furnisher, aug)
    with bureau.sessions() as session, session.begin():
        assert score_all(session) == 2  # both consumers have a file
        stored = dict(session.execute(select(subject_scores.c.subject_id,
                                             subject_scores.c.block)).all())
    batch = {orjson.loads(block)["as_of"] for block in stored.values()}
    assert batch == {"2026-08-31"}
    assert _report(bureau, lender, JOINT)["score"]["as_of"] == "2026-08-31"
    sep = _write(tmp_path / "sep.m2", _base("2026-09"), {"J1": _consumer(2, JOINT, "2")})
    _submit(bureau, furnisher, sep)
    assert _report(bureau, lender, JOINT)["score"]["as_of"] == "2026-09-30"
