"""Scoring inside the bureau: train from stored history, promote, scores on reports, monitor."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from sqlalchemy import select
from typer.testing import CliRunner

from openbureau.cli import app
from openbureau.context import Bureau
from openbureau.demo.run import run_demo
from openbureau.reports.tables import inquiries

runner = CliRunner()


def _cli(*args: str):
    return runner.invoke(app, list(args))


def _active(settings) -> str | None:
    listed = json.loads(_cli("model", "list", "--json").output)
    return next((m["version"] for m in listed if m["active"]), None)


def test_models_train_promote_and_score_reports(env_settings):
    # tests/scoring/conftest.py has its own `bureau` (synthetic frames), so build ours here.
    bureau = Bureau.from_settings(env_settings)
    outcome = run_demo(bureau, Console(quiet=True), limit=900)
    assert outcome.model["trained_now"] and outcome.model["subjects"] > 500
    hits = [r for r in outcome.inquiries if r["result"] == "hit"]
    for report in hits:
        score = report["score"]
        assert score["model_version"] == outcome.model["version"]
        if score["available"]:
            assert 300 <= score["score"] <= 850
            assert len(score["reasons"]) in range(1, 6)
            assert all(r["text"] and r["text_zh"] for r in score["reasons"])
        else:
            assert score["reason"]
    with bureau.sessions() as session:
        served = session.execute(
            select(inquiries.c.score, inquiries.c.score_model_version).where(
                inquiries.c.outcome == "hit"
            )
        ).all()
    assert all(v == outcome.model["version"] for _, v in served)

    first = _active(env_settings)
    trained = _cli(
        "model",
        "train",
        "--observation",
        "2005-06",
        "--performance-months",
        "3",
        "--bad",
        "worst_status>=past_due_60",
        "--json",
    )
    assert trained.exit_code == 0, trained.output
    new = json.loads(trained.output)
    assert new["subjects"] > 500 and 0 < new["bad_rate"] < 1
    assert "<html" in Path(new["report"]).read_text(encoding="utf-8").lower()
    assert _active(env_settings) == first  # training never promotes

    for bad_args in (
        ["--observation", "2005-09", "--performance-months", "3", "--bad", "worst_status>=1"],
        ["--observation", "2005-06", "--performance-months", "3", "--bad", "balance>99999999999"],
        ["--observation", "2005-06", "--performance-months", "3", "--bad", "rm -rf /"],
        ["--observation", "June", "--performance-months", "3", "--bad", "worst_status>=1"],
    ):
        failed = _cli("model", "train", *bad_args)
        assert failed.exit_code == 3, (bad_args, failed.output)
        assert _active(env_settings) == first
    assert _cli("model", "promote", "no-such-version").exit_code == 3
    assert _active(env_settings) == first

    assert _cli("model", "promote", new["version"]).exit_code == 0
    assert _active(env_settings) == new["version"]
    versions = [m["version"] for m in json.loads(_cli("model", "list", "--json").output)]
    assert first in versions  # kept for rollback
    assert _cli("model", "promote", first).exit_code == 0

    monitored = _cli("model", "monitor", "--json")
    assert monitored.exit_code == 0, monitored.output
    rows = json.loads(monitored.output)
    months = {r["month"] for r in rows if r["variable"] == "score"}
    assert months == {"2005-04", "2005-05", "2005-06", "2005-07", "2005-08", "2005-09"}
    sept = next(r for r in rows if r["variable"] == "score" and r["month"] == "2005-09")
    assert sept["psi"] < 0.01  # the training month against itself


def test_a_correction_changes_the_cached_score(env_settings, tmp_path):
    import polars as pl

    from openbureau.demo.run import LENDER
    from openbureau.demo.taiwan import build_demo_submissions, write_submission
    from openbureau.files.tables import tradelines
    from openbureau.furnishing.submit import submit_file
    from openbureau.governance.members import get_member
    from openbureau.reports.inquiry import InquiryIdentity, make_inquiry

    bureau = Bureau.from_settings(env_settings)
    run_demo(bureau, Console(quiet=True), limit=700)
    data = build_demo_submissions(limit=700)
    sept = data.submission("zhifu", "2005-09").records
    person = sept.filter(pl.col("account_status") == "current").row(0, named=True)
    identity = InquiryIdentity(
        person["full_name"], "cn_ric", person["national_id"], person["date_of_birth"]
    )

    def score() -> dict:
        with bureau.sessions() as session:
            lender = get_member(session, LENDER)
            report = make_inquiry(bureau, session, lender, identity, "loan_approval", "T")
            session.commit()
        return report["score"]

    before, again = score(), score()
    assert before == again  # served from the cache, same inputs
    worse = sept.filter(pl.col("account_ref") == person["account_ref"]).with_columns(
        pl.lit("past_due_120").alias("account_status"),
        pl.col("current_balance").alias("amount_past_due"),
        pl.lit("4321000000000000BBBBBBBB").alias("payment_history"),
        pl.lit(person["reporting_date"].replace(day=1, month=5)).alias("date_first_delinquency"),
    )
    path = write_submission(worse, tmp_path / "correction.jsonl")
    with bureau.sessions() as session:
        platform = get_member(session, "zhifu")
    report, _ = submit_file(bureau, platform, path, actor="test")
    assert report["accepted"] == 1 and report["rows_written"] == 1
    after = score()
    assert after != before
    if before.get("available") and after.get("available"):
        assert after["score"] < before["score"]
    with bureau.sessions() as session:
        status = session.execute(
            select(tradelines.c.account_status).where(
                tradelines.c.account_ref == person["account_ref"], tradelines.c.period == "2005-09"
            )
        ).scalar_one()
    assert status == "past_due_120"


def test_batch_scores_equal_online_scores(env_settings):
    from openbureau.files.tables import tradelines
    from openbureau.scoring.precompute import score_all
    from openbureau.scoring.service import score_for_report
    from openbureau.scoring.tables import subject_scores

    bureau = Bureau.from_settings(env_settings)
    run_demo(bureau, Console(quiet=True), limit=600)
    with bureau.sessions() as session, session.begin():
        assert score_all(session) > 400
        stored = dict(
            session.execute(select(subject_scores.c.subject_id, subject_scores.c.block)).all()
        )
        subject_ids = sorted(
            set(session.execute(select(tradelines.c.subject_id).distinct()).scalars())
        )[:40]
    assert set(subject_ids) <= set(stored)
    with bureau.sessions() as session:
        session.execute(subject_scores.delete())  # force the online path, same inputs
        for subject_id in subject_ids:
            online = score_for_report(Bureau.from_settings(env_settings), session, subject_id)
            assert online == json.loads(stored[subject_id]), subject_id
        session.rollback()


def test_a_damaged_active_model_gives_reports_without_a_score(env_settings):
    from sqlalchemy import update

    from openbureau.scoring.service import score_for_report
    from openbureau.scoring.tables import score_models

    bureau = Bureau.from_settings(env_settings)
    outcome = run_demo(bureau, Console(quiet=True), limit=500)
    with bureau.sessions() as session, session.begin():
        session.execute(
            update(score_models)
            .where(score_models.c.active.is_(True))
            .values(document='{"format": "openbureau.scorecard", "checksum": "sha256:00"}')
        )
    subject_id = next(r for r in outcome.inquiries if r["result"] == "hit")["subject"]["subject_id"]
    fresh = Bureau.from_settings(env_settings)  # no model parsed yet in this process
    with fresh.sessions() as session:
        block = score_for_report(fresh, session, subject_id)
    assert block["available"] is False and "unusable" in block["reason"]
