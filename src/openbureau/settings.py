"""Deployment settings, declared once as data and passed explicitly.

Every setting reads from an ``OPENBUREAU_*`` environment variable. ``docs/settings.md``
documents each one, and a test fails when a setting is left undocumented.

>>> s = Settings(database_url="sqlite:////tmp/bureau.db", jurisdiction="CN")
>>> s.jurisdiction
'CN'
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "openbureau"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OPENBUREAU_", extra="ignore", frozen=True)

    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Folder for the embedded database and the generated embedded-mode key file.",
    )
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL. Empty means the embedded SQLite file <data_dir>/bureau.db; "
        "use postgresql+psycopg://user@host/db in production.",
    )
    encryption_key: str = Field(
        default="",
        description="Base64 of 32 bytes for AES-GCM encryption of personal data. Empty means a key "
        "generated once and kept in <data_dir>/keys.json (embedded mode only).",
    )
    blind_index_key: str = Field(
        default="",
        description="Base64 of 32 bytes for the keyed hashes (blind indexes) used in exact "
        "lookups. Empty means generated with the encryption key.",
    )
    jurisdiction: Literal["CN", "US", "EU-DE"] = Field(
        default="CN",
        description="Jurisdiction profile: permissible purposes and related rules.",
    )
    default_currency: str = Field(
        default="CNY", description="Currency assumed for records that do not state one."
    )
    max_upload_bytes: int = Field(
        default=512 * 1024 * 1024,
        description="Largest submission file accepted, in bytes; larger uploads get HTTP 413.",
    )
    inquiry_history_days: int = Field(
        default=730, description="How far back hard inquiries are shown on reports, in days."
    )
    file_keys_in_memory: int = Field(
        default=1_000_000,
        ge=0,
        description="Account keys of one file held in memory, to find repeated records and to "
        "keep delete requests until the file is in; beyond this many they move to temporary "
        "tables (about 30 MB a million in memory).",
    )
    max_rejections_reported: int = Field(
        default=10_000,
        description="Most per-record errors listed in one submission report (counts stay exact).",
    )

    identity_match_threshold: float = Field(
        default=0.99,
        ge=0.0,
        le=1.0,
        description="Match probability at or above which a furnished record joins a subject "
        "whose national ID differs or is unknown (guards can still send it to review).",
    )
    identity_review_threshold: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="Match probability at or above which a furnished record is held for "
        "review instead of starting a new subject.",
    )
    identity_inquiry_threshold: float = Field(
        default=0.9999,
        ge=0.0,
        le=1.0,
        description="Match probability an inquiry without a national-ID match needs before "
        "a report is served; inquiries need more certainty than furnishing.",
    )
    identity_max_block_size: int = Field(
        default=200,
        ge=1,
        description="Blocking keys shared by more subjects than this are too common to "
        "propose candidates (very common names, shared family addresses).",
    )
    identity_min_shared_keys: int = Field(
        default=2,
        ge=1,
        description="Blocking keys a subject must share with a record to be scored as a "
        "candidate.",
    )

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'bureau.db'}"

    @property
    def is_embedded(self) -> bool:
        return self.resolved_database_url().startswith("sqlite")
