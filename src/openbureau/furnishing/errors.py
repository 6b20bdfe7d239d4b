"""What goes wrong with a submitted file: per-record errors, or a whole-file rejection."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import polars as pl

ERROR_SCHEMA = {"record_no": pl.Int64, "field": pl.Utf8, "rule": pl.Utf8, "message": pl.Utf8}


@dataclass(frozen=True)
class RecordError:
    record_no: int
    field: str
    rule: str
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


class FileRejected(Exception):
    """The file as a whole cannot be trusted; nothing from it is loaded."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


def errors_frame(errors: list[RecordError]) -> pl.DataFrame:
    return pl.DataFrame([e.as_dict() for e in errors], schema=ERROR_SCHEMA)
