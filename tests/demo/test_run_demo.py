"""The main job end to end on a slice of the Taiwan data, on both databases."""

from __future__ import annotations

from rich.console import Console

from openbureau.demo.run import run_demo


def test_demo_builds_a_bureau_and_serves_reports(bureau):
    console = Console(quiet=True)
    outcome = run_demo(bureau, console, limit=400)
    assert len(outcome.submissions) == 18
    assert all(r["rejected"] == 0 for r in outcome.submissions)
    assert sum(r["accepted"] for r in outcome.submissions) == 400 * 6
    hits = [r for r in outcome.inquiries if r["result"] == "hit"]
    misses = [r for r in outcome.inquiries if r["result"] == "no_hit"]
    assert len(misses) == 1 and len(hits) == len(outcome.inquiries) - 1
    # Somebody with cards at two furnishers shows both, in one file.
    assert max(len(r["accounts"]) for r in hits) == 2
    assert outcome.audit["ok"]
    # The identity model is the bureau's own, fitted with Splink on its identities.
    assert outcome.identity_model["trained_now"]
    assert outcome.identity_model["version"].startswith("bureau-")
    again = run_demo(bureau, console, limit=400)
    assert all(r["replay"] for r in again.submissions)
    assert again.identity_model == {
        "version": outcome.identity_model["version"], "trained_now": False
    }
