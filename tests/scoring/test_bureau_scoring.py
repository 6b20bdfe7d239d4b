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
            assert 1 <= len(score["reasons"]) <= 5
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
