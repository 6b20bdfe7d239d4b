"""Rejection types: per-record problems and whole-file rejection."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

import polars as pl

REJECTION_SCHEMA: dict[str, pl.DataType] = {
    "record_no": pl.Int64(),
    "byte_offset": pl.Int64(),
    "segment": pl.Utf8(),
    "field": pl.Utf8(),
    "rule": pl.Utf8(),
    "message": pl.Utf8(),
}


def empty_rejections() -> pl.DataFrame:
    return pl.DataFrame(schema=REJECTION_SCHEMA)


class FileRejected(Exception):
    """The file's framing, header or trailer cannot be trusted: nothing in it may be loaded."""

    def __init__(self, rule: str, message: str, byte_offset: int | None = None,
                 record_no: int | None = None) -> None:
        super().__init__(f"{rule}: {message}" + (
            f" (byte offset {byte_offset})" if byte_offset is not None else ""))
        self.rule = rule
        self.message = message
        self.byte_offset = byte_offset
        self.record_no = record_no

    def to_dict(self) -> dict:
        return {"rule": self.rule, "message": self.message, "byte_offset": self.byte_offset,
                "record_no": self.record_no}


@dataclass
class RejectionReport:
    """All record-level rejections of a file, plus the file-level verdict."""

    rejections: pl.DataFrame
    records_read: int = 0
    records_rejected: int = 0
    file_rejection: FileRejected | None = None

    @property
    def status(self) -> str:
        if self.file_rejection is not None:
            return "file_rejected"
        return "records_rejected" if self.records_rejected else "valid"

    def to_dict(self) -> dict:
        return {
            "status": self.status,
            "records_read": self.records_read,
            "records_rejected": self.records_rejected,
            "file_rejection": self.file_rejection.to_dict() if self.file_rejection else None,
            "rejections": self.rejections.to_dicts(),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def to_csv(self) -> str:
        frame = self.rejections
        if self.file_rejection is not None:
            fr = self.file_rejection
            frame = pl.concat([frame, pl.DataFrame(
                [{"record_no": fr.record_no, "byte_offset": fr.byte_offset, "segment": "FILE",
                  "field": None, "rule": fr.rule, "message": fr.message}],
                schema=REJECTION_SCHEMA)])
        buf = io.StringIO()
        frame.write_csv(buf)
        return buf.getvalue()
