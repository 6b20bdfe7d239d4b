from __future__ import annotations

import io

import polars as pl
import pytest

from openbureau.furnishing.metro2 import write_file
from openbureau.furnishing.metro2.sample import HEADER, sample_base, sample_segments

ALL_SEGMENTS = ("J1", "J2", "J2", "K1", "K2", "K3", "K4", "L1", "N1")
LAYOUTS = [
    dict(packed=False, blocked=False),
    dict(packed=False, blocked=True),
    dict(packed=True, blocked=False),
    dict(packed=True, blocked=True),
    dict(packed=True, blocked=True, packed_encoding="bcd"),
]


def make_file(n: int = 30, kinds: tuple[str, ...] = ALL_SEGMENTS, seed: int = 0,
              base: pl.DataFrame | None = None, **kw) -> bytes:
    b = sample_base(n, seed) if base is None else base
    segs = sample_segments(b, kinds, seed) if kinds else None
    buf = io.BytesIO()
    write_file(buf, HEADER, b, segs, **kw)
    return buf.getvalue()


@pytest.fixture(scope="session")
def plain_file() -> bytes:
    return make_file(40, ())


@pytest.fixture(scope="session")
def seg_file() -> bytes:
    return make_file(40)
