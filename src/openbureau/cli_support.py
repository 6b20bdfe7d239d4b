"""Shared CLI plumbing: building the Bureau from settings, JSON output, exit codes."""

from __future__ import annotations

import getpass
import sys
from typing import Any, NoReturn

import orjson
import typer
from rich.console import Console

from openbureau.context import Bureau
from openbureau.settings import Settings

console = Console()
err_console = Console(stderr=True)

# Exit codes shared by every command.
EXIT_OK = 0
EXIT_REJECTED_RECORDS = 1
EXIT_REJECTED_FILE = 2
EXIT_USAGE = 2
EXIT_FAILED = 3


def bureau_from_env() -> Bureau:
    """The Bureau from OPENBUREAU_* settings; bad settings or keys end the command cleanly."""
    from pydantic import ValidationError

    from openbureau.governance.crypto import KeyConfigurationError

    try:
        return Bureau.from_settings(Settings())
    except ValidationError as exc:
        problems = "; ".join(
            f"OPENBUREAU_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in exc.errors()
        )
        fail(f"bad settings: {problems}")
    except KeyConfigurationError as exc:
        fail(str(exc))


def operator_actor() -> str:
    return f"operator:{getpass.getuser()}"


def print_json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2, default=str).decode() + "\n")


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    err_console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)
