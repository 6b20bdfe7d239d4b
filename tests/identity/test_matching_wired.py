"""Probabilistic matching in the bureau itself: furnished records with a national ID new to
the bureau, inquiries without a usable national ID, the stored model, merges and splits."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from factories import record, resident_id, write_jsonl
from openbureau.cli import app
from openbureau.files.tables import tradelines
from openbureau.furnishing.submit import submit_file
from openbureau.governance.audit import verify_chain
from openbureau.governance.members import Role
from openbureau.identity.changes import identity_key_rows
from openbureau.identity.matching import phone_region
from openbureau.identity.tables import (
    identity_blocking_keys,
    identity_decisions,
    subject_changes,
)

runner = CliRunner()

# One US person; the second bank knows her under a Chinese resident ID.
US = dict(
    full_name="Mary Ann Johnson",
    national_id_type="us_ssn",
    national_id="536-90-4399",
    date_of_birth="1975-06-21",
    address="742 Evergreen Terrace, Springfield OR 97477",
    phone="+15415550123",
)
OTHER = dict(
    full_name="Robert Lee Miller",
    national_id_type="us_ssn",
    national_id="212-45-9876",
    date_of_birth="1961-11-02",
    address="12 Harbor Road, Portland OR 97201",
    phone="+15035550188",
)


def _submit(bureau, member, tmp_path, name, rows):
    report, _ = submit_file(bureau, member, write_jsonl(tmp_path / name, rows), actor="test")
    return report


def _subject_of(bureau, member_id, account_ref):
    with bureau.sessions() as session:
        return session.execute(
            select(tradelines.c.subject_id).where(
                tradelines.c.member_id == member_id, tradelines.c.account_ref == account_ref
            )
        ).scalar_one()


def _inquire(client, key, identity, purpose="loan_approval"):
    response = client.post(
        "/v1/inquiries",
        headers={"Authorization": f"Bearer {key}"},
        json={"identity": identity, "purpose": purpose, "consent_reference": "C-1"},
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def two_banks(bureau, members, tmp_path):
    first, _ = members.add("bank1", Role.FURNISHER)
    second, _ = members.add("bank2", Role.FURNISHER)
    _submit(
        bureau, first, tmp_path, "a.jsonl",
        [record(**US, account_ref="A1"), record(**OTHER, account_ref="A2")],
    )
    return first, second


def test_blocking_keys_are_stored_hashed_for_every_new_subject(bureau, two_banks):
    with bureau.sessions() as session:
        keys = session.execute(select(identity_blocking_keys)).all()
    assert {row.subject_id for row in keys} == {
        _subject_of(bureau, two_banks[0].id, "A1"),
        _subject_of(bureau, two_banks[0].id, "A2"),
    }
    # Keyed hashes (64-bit integers), never the normalised name, date or number itself.
    assert all(isinstance(row.key_bidx, int) for row in keys)


def test_a_typo_in_a_valid_ssn_is_held_for_review_with_its_evidence(
    bureau, two_banks, tmp_path, env_settings
):
    first, second = two_banks
    swapped = dict(US, national_id="536-90-3499")  # last digits swapped, still a valid SSN
    report = _submit(bureau, second, tmp_path, "b.jsonl", [record(**swapped, account_ref="B1")])
    assert report["held_for_identity_review"] == 1
    assert report["new_subjects"] == 0
    with bureau.sessions() as session:
        decision = session.execute(select(identity_decisions)).one()
    assert decision.decision == "review"
    assert decision.candidate_subject_id == _subject_of(bureau, first.id, "A1")
    evidence = json.loads(decision.explanation)
    assert evidence["reason"] == "national_id_typo"
    levels = {f["comparison"]: f for f in evidence["fields"]}
    assert levels["dob"]["level"] == "exact" and levels["dob"]["weight"] > 0
    assert levels["phone"]["level"] == "exact"
    assert evidence["model_version"] == decision.model_version
    explained = runner.invoke(
        app, ["identity", "decisions", "--submission", str(report["submission_id"]), "--json"]
    )
    assert explained.exit_code == 0, explained.output
    [shown] = json.loads(explained.output)
    assert shown["decision"] == "review" and shown["account_ref"] == "B1"
    assert shown["explanation"]["fields"] == evidence["fields"]


def test_a_different_person_with_a_new_id_starts_a_new_subject(bureau, two_banks, tmp_path):
    first, second = two_banks
    stranger = dict(
        full_name="Wei Zhang",
        national_id_type="us_ssn",
        national_id="078-05-1121",
        date_of_birth="1990-02-03",
        address="5 Main Street, Austin TX 73301",
        phone="+15125550100",
    )
    report = _submit(bureau, second, tmp_path, "b.jsonl", [record(**stranger, account_ref="B1")])
    assert report["new_subjects"] == 1
    assert _subject_of(bureau, second.id, "B1") not in {
        _subject_of(bureau, first.id, "A1"),
        _subject_of(bureau, first.id, "A2"),
    }


def test_the_same_person_under_another_id_type_joins_her_file(bureau, two_banks, tmp_path):
    first, second = two_banks
    same = dict(US, national_id_type="cn_ric", national_id=resident_id(date(1975, 6, 21), 2))
    report = _submit(bureau, second, tmp_path, "b.jsonl", [record(**same, account_ref="B1")])
    assert report["matched_existing_subjects"] == 1 and report["new_subjects"] == 0
    assert _subject_of(bureau, second.id, "B1") == _subject_of(bureau, first.id, "A1")
    with bureau.sessions() as session:
        decision = session.execute(select(identity_decisions)).one()
    assert decision.decision == "matched"
    assert decision.match_probability >= bureau.settings.identity_match_threshold


def test_inquiry_without_national_id_hits_only_a_clear_match(bureau, two_banks, members, client):
    _, key = members.add("lender", Role.SUBSCRIBER)
    full = {k: US[k] for k in ("full_name", "date_of_birth", "address", "phone")}
    hit = _inquire(client, key, full)
    assert hit["result"] == "hit"
    assert [a["furnisher"] for a in hit["accounts"]] == ["another member"]

    thin = _inquire(client, key, {"full_name": US["full_name"]})
    assert thin["result"] == "more_data_needed"
    assert thin["missing_fields"] == ["national_id", "date_of_birth", "address", "phone"]
    assert "accounts" not in thin and "subject" not in thin

    partial = _inquire(
        client, key, {"full_name": US["full_name"], "date_of_birth": US["date_of_birth"]}
    )
    assert partial["result"] == "more_data_needed"
    assert "accounts" not in partial
    assert set(partial["missing_fields"]) <= {"national_id", "address", "phone"}

    nobody = _inquire(
        client, key,
        {"full_name": "Nobody Atall", "date_of_birth": "1999-09-09",
         "address": "1 Nowhere Lane, Reno NV 89501", "phone": "+17755550100"},
    )
    assert nobody["result"] == "no_hit"


def test_inquiry_with_an_unknown_valid_id_never_borrows_a_file(
    bureau, two_banks, members, client
):
    _, key = members.add("lender", Role.SUBSCRIBER)
    other_id = dict(US, national_id="078-05-1121")
    answer = _inquire(client, key, other_id)
    assert answer["result"] in {"no_hit", "more_data_needed"}
    assert "accounts" not in answer


def test_inquiry_identity_needs_id_and_type_together(client, members):
    _, key = members.add("lender", Role.SUBSCRIBER)
    response = client.post(
        "/v1/inquiries",
        headers={"Authorization": f"Bearer {key}"},
        json={
            "identity": {"full_name": "Mary", "national_id": "536-90-4399"},
            "purpose": "loan_approval",
            "consent_reference": "C-1",
        },
    )
    assert response.status_code == 422
    assert "together" in response.text


def test_merge_redirects_and_later_reports_show_both_files(
    bureau, two_banks, members, client, env_settings
):
    first, _ = two_banks
    keep, absorb = _subject_of(bureau, first.id, "A1"), _subject_of(bureau, first.id, "A2")
    merged = runner.invoke(
        app, ["identity", "merge", str(keep), str(absorb), "--reason", "test", "--json"]
    )
    assert merged.exit_code == 0, merged.output
    assert json.loads(merged.output)["redirected"] == [absorb]
    _, key = members.add("lender", Role.SUBSCRIBER)
    for person in (US, OTHER):
        report = _inquire(client, key, person)
        assert report["result"] == "hit"
        assert report["subject"]["subject_id"] == keep
        assert len(report["accounts"]) == 2
    again = runner.invoke(app, ["identity", "merge", str(absorb), str(keep), "--reason", "x"])
    assert again.exit_code != 0 and "already one subject" in again.output
    with bureau.sessions() as session:
        change = session.execute(select(subject_changes)).one()
        assert (change.kind, change.subject_id, change.other_subject_id) == (
            "merge", keep, absorb
        )
        assert verify_chain(session).ok


def test_split_moves_accounts_and_the_next_month_follows(
    bureau, members, tmp_path, client, env_settings
):
    bank, _ = members.add("bank1", Role.FURNISHER)
    _submit(bureau, bank, tmp_path, "a.jsonl", [record(**US, account_ref="A1")])
    mixed = dict(US, full_name="Mary Ann Johnston", account_ref="A9")
    _submit(bureau, bank, tmp_path, "b.jsonl", [record(**mixed)])
    subject = _subject_of(bureau, bank.id, "A1")
    assert _subject_of(bureau, bank.id, "A9") == subject

    refused = runner.invoke(
        app, ["identity", "split", str(subject), "--account", "bank1:NOPE", "--reason", "t"]
    )
    assert refused.exit_code != 0 and "not on subject" in refused.output
    split = runner.invoke(
        app,
        ["identity", "split", str(subject), "--account", "bank1:A9", "--reason", "t", "--json"],
    )
    assert split.exit_code == 0, split.output
    new_subject = json.loads(split.output)["new_subject_id"]
    assert _subject_of(bureau, bank.id, "A9") == new_subject
    assert _subject_of(bureau, bank.id, "A1") == subject

    next_month = dict(mixed, reporting_date="2005-10-31")
    _submit(bureau, bank, tmp_path, "c.jsonl", [record(**next_month)])
    with bureau.sessions() as session:
        rows = session.execute(
            select(tradelines.c.subject_id, func.count())
            .where(tradelines.c.account_ref == "A9")
            .group_by(tradelines.c.subject_id)
        ).all()
        assert rows == [(new_subject, 2)]
        assert session.execute(
            select(func.count()).select_from(identity_blocking_keys).where(
                identity_blocking_keys.c.subject_id == new_subject
            )
        ).scalar_one() > 0
        assert verify_chain(session).ok
        # Every subject holds exactly the keys its identities give: the moved identity's own
        # keys left the old subject, and nothing was lost or duplicated on the way.
        stored = session.execute(
            select(identity_blocking_keys.c.key_bidx, identity_blocking_keys.c.subject_id)
        ).all()
        given = identity_key_rows(session, bureau.keys, phone_region(bureau.settings))
    assert sorted(stored) == sorted(given.iter_rows())
    old_keys = {key for key, owner in stored if owner == subject}
    new_keys = {key for key, owner in stored if owner == new_subject}
    assert new_keys - old_keys, "the moved identity's name keys should be the new subject's only"


def test_split_over_http_needs_the_operator_role(bureau, members, client, two_banks):
    _, key = members.add("lender", Role.SUBSCRIBER)
    response = client.post(
        "/v1/subjects/1/split",
        headers={"Authorization": f"Bearer {key}"},
        json={"accounts": [{"member": "bank1", "account_ref": "A1"}], "reason": "x"},
    )
    assert response.status_code == 403


def _population_records(count: int) -> list[dict]:
    """Generated people, several records each with realistic noise, as native records."""
    from openbureau.identity.normalize import normalize_date, normalize_national_id
    from openbureau.identity.synth import generate_population

    rows = []
    for n, p in enumerate(generate_population(count, seed=3).iter_rows(named=True)):
        nid = normalize_national_id(p["national_id"], p["id_country"])
        dob = normalize_date(p["dob"])
        if not (nid.valid and dob and p["full_name"]):
            continue
        rows.append(
            record(
                full_name=p["full_name"],
                national_id_type=nid.type,
                national_id=nid.value,
                date_of_birth=f"{dob[:4]}-{dob[4:6]}-{dob[6:]}",
                address=" ".join(x for x in (p["address"], p["postcode"]) if x) or None,
                phone=p["phone"],
                account_ref=f"P{n}",
            )
        )
    return rows


def test_a_model_trained_on_the_bureaus_identities_is_versioned_and_used(
    bureau, members, tmp_path, env_settings
):
    bank, _ = members.add("bank1", Role.FURNISHER)
    report = _submit(bureau, bank, tmp_path, "p.jsonl", _population_records(2000))
    assert report["accepted"] > 500
    trained = runner.invoke(app, ["identity", "train", "--json"])
    assert trained.exit_code == 0, trained.output
    version = json.loads(trained.output)["version"]
    assert version.startswith("bureau-")
    listed = json.loads(runner.invoke(app, ["identity", "models", "--json"]).output)
    assert [m["version"] for m in listed if m["active"]] == [version]
    assert listed[0]["shipped"] and not listed[0]["active"]

    # The next decision is made, and logged, with the bureau's own model.
    swapped = dict(US, national_id="536-90-3499")
    _submit(bureau, bank, tmp_path, "a.jsonl", [record(**US, account_ref="A1")])
    _submit(bureau, bank, tmp_path, "b.jsonl", [record(**swapped, account_ref="B1")])
    with bureau.sessions() as session:
        used = session.execute(select(identity_decisions.c.model_version)).scalars().all()
    assert used and set(used) == {version}

    missing = runner.invoke(app, ["identity", "activate", "no-such-version"])
    assert missing.exit_code != 0 and "no identity model" in missing.output
    shipped = listed[0]["version"]
    assert runner.invoke(app, ["identity", "activate", shipped]).exit_code == 0
    back = json.loads(runner.invoke(app, ["identity", "models", "--json"]).output)
    assert [m["version"] for m in back if m["active"]] == [shipped]


def test_training_refuses_a_bureau_too_small_to_learn_from(bureau, two_banks, env_settings):
    result = runner.invoke(app, ["identity", "train"])
    assert result.exit_code != 0 and "at least" in result.output


def _one_file_two_id_types():
    cn_id = resident_id(date(1975, 6, 21), 2)
    return [
        record(**US, account_ref="A1"),
        record(**dict(US, national_id_type="cn_ric", national_id=cn_id), account_ref="A2"),
        record(**OTHER, account_ref="A3"),
    ]


@pytest.mark.parametrize("batch", [False, True])
def test_batch_identity_settles_one_person_reported_under_two_id_types_in_one_file(
    bureau, members, tmp_path, batch
):
    bank, _ = members.add("bank1", Role.FURNISHER)
    path = write_jsonl(tmp_path / "a.jsonl", _one_file_two_id_types())
    report, _ = submit_file(bureau, bank, path, actor="t", batch_identity=batch)
    assert report["rejected"] == 0
    a1, a2, a3 = (_subject_of(bureau, bank.id, ref) for ref in ("A1", "A2", "A3"))
    assert a3 not in {a1, a2}
    if batch:  # clustered first: her two IDs are one person
        assert a1 == a2 and report["new_subjects"] == 2
    else:  # one new national ID at a time, within one file: she is split in two
        assert a1 != a2 and report["new_subjects"] == 3


def test_keys_shared_by_too_many_subjects_propose_nobody(bureau, members, tmp_path):
    from openbureau.identity.decide import InquiryIdentity, match_inquiry
    from openbureau.identity.matching import MatchSettings
    from openbureau.identity.model_store import inquiry_model

    bank, _ = members.add("bank1", Role.FURNISHER)
    namesakes = [
        record(
            full_name="John Smith", date_of_birth="1980-01-01", national_id_type="us_ssn",
            national_id=ssn, address=f"{n} Elm Street, Dayton OH 4540{n}",
            phone=f"+1937555010{n}", account_ref=f"S{n}",
        )
        for n, ssn in enumerate(["536-90-4399", "212-45-9876", "078-05-1121"])
    ]
    assert _submit(bureau, bank, tmp_path, "s.jsonl", namesakes)["new_subjects"] == 3
    asked = InquiryIdentity("John Smith", date_of_birth=date(1980, 1, 1))
    with bureau.sessions() as session:
        def answer(max_block_size: int) -> str:
            return match_inquiry(
                session,
                bureau.keys,
                lambda: inquiry_model(session, bureau.settings, {}),
                MatchSettings(max_block_size, 2, "US"),
                asked,
            ).outcome

        assert answer(200) == "more_data_needed"  # three namesakes: which one?
        assert answer(2) == "no_hit"  # every shared key is too common to propose anyone


def test_reindex_rebuilds_exactly_the_stored_keys(bureau, two_banks, env_settings):
    def stored() -> list[tuple]:
        with bureau.sessions() as session:
            return sorted(session.execute(select(identity_blocking_keys)).all())

    before = stored()
    assert before
    with bureau.sessions() as session, session.begin():
        session.execute(identity_blocking_keys.delete())
    assert stored() == []
    result = runner.invoke(app, ["identity", "reindex"])
    assert result.exit_code == 0, result.output
    assert f"{len(before)} blocking keys stored" in result.output
    assert stored() == before
