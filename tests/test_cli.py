"""The command line: members, keys, submit exit codes, JSON output."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from factories import person, record, write_jsonl
from openbureau.cli import app

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, list(args))


def test_members_keys_and_submit(env_settings, tmp_path):
    added = _run("members", "add", "zhifu", "--name", "Zhifu", "--role", "furnisher", "--json")
    assert added.exit_code == 0, added.output
    assert json.loads(added.output)["roles"] == ["furnisher"]
    assert _run("members", "add", "zhifu", "--name", "again", "--role", "furnisher").exit_code == 3
    assert _run("members", "add", "Bad Code!", "--name", "x", "--role", "furnisher").exit_code == 3
    issued = json.loads(_run("members", "keys", "issue", "zhifu", "--json").output)
    assert issued["api_key"].startswith("ob_")
    listed = json.loads(_run("members", "keys", "list", "--json").output)
    assert listed[0]["member"] == "zhifu" and "api_key" not in listed[0]
    assert issued["api_key"] not in _run("members", "keys", "list").output

    good = write_jsonl(
        tmp_path / "good.jsonl", [record(**person(i), account_ref=f"A{i}") for i in range(3)]
    )
    result = _run("submit", str(good), "--member", "zhifu", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["accepted"] == 3

    mixed = write_jsonl(tmp_path / "mixed.jsonl", [record(account_ref="X", account_type="car")])
    result = _run("submit", str(mixed), "--member", "zhifu", "--json")
    assert result.exit_code == 1
    assert json.loads(result.output)["errors"][0]["rule"] == "unknown_code"

    broken = tmp_path / "broken.csv"
    broken.write_bytes(b"\xff\xfe\x00garbage")
    result = _run("submit", str(broken), "--member", "zhifu", "--json")
    assert result.exit_code == 2
    assert json.loads(result.output)["rule"] == "encoding"

    assert _run("submit", str(good), "--member", "nobody").exit_code == 3
    assert _run("members", "keys", "revoke", str(issued["key_id"])).exit_code == 0
    assert _run("members", "keys", "revoke", str(issued["key_id"])).exit_code == 3


def test_every_command_has_help():
    for args in (
        ["--help"],
        ["members", "--help"],
        ["members", "keys", "--help"],
        ["submit", "--help"],
        ["audit", "verify", "--help"],
        ["serve", "--help"],
        ["demo", "--help"],
        ["db", "upgrade", "--help"],
    ):
        result = _run(*args)
        assert result.exit_code == 0 and "Usage" in result.output, args


def test_bad_settings_end_cleanly(monkeypatch):
    monkeypatch.setenv("OPENBUREAU_JURISDICTION", "XX")
    result = _run("members", "list")
    assert result.exit_code == 3 and "OPENBUREAU_JURISDICTION" in result.output
    monkeypatch.setenv("OPENBUREAU_JURISDICTION", "CN")
    monkeypatch.setenv("OPENBUREAU_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/x")
    monkeypatch.delenv("OPENBUREAU_ENCRYPTION_KEY", raising=False)
    result = _run("members", "list")
    assert result.exit_code == 3 and "OPENBUREAU_ENCRYPTION_KEY" in result.output
