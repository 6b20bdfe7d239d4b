"""Fuzzing: no exception escapes; every input ends in a report (accepted or rejected)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openbureau.furnishing.metro2 import FileRejected, read_chunks, validate_file

from .conftest import make_file

SEEDS = {
    "char": make_file(4, ("J1", "K1", "N1")),
    "char_blocked": make_file(4, ("J2", "L1"), blocked=True, line_break=b"\n"),
    "packed": make_file(4, ("J1", "K4"), packed=True, blocked=True),
    "packed_bcd": make_file(4, ("K2", "K3"), packed=True, packed_encoding="bcd",
                            line_break=b"\r\n"),
}


@st.composite
def mutated(draw):
    data = bytearray(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["truncate", "insert", "overwrite", "delete", "crlf",
                                   "huge_rdw", "mix", "dup"]))
        n = len(data)
        at = draw(st.integers(0, max(n - 1, 0)))
        if op == "truncate":
            del data[at:]
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=20))
        elif op == "overwrite":
            b = draw(st.binary(min_size=1, max_size=8))
            data[at:at + len(b)] = b
        elif op == "delete":
            del data[at:at + draw(st.integers(1, 50))]
        elif op == "crlf":
            data[at:at] = draw(st.sampled_from([b"\n", b"\r\n", b"\r"]))
        elif op == "huge_rdw":
            data[at:at + 4] = draw(st.sampled_from([b"9999", b"\xff\xff\x00\x00", b"0000",
                                                    b"\x00\x00\x00\x00"]))
        elif op == "mix":
            other = SEEDS[draw(st.sampled_from(sorted(SEEDS)))]
            data[at:at] = other[: draw(st.integers(1, len(other)))]
        else:
            data += data[at:at + draw(st.integers(1, 800))]
    return bytes(data)


def _check(data: bytes) -> None:
    rep = validate_file(data)
    assert rep.status in ("valid", "records_rejected", "file_rejected")
    rep.to_json()
    rep.to_csv()
    if rep.status != "file_rejected":
        try:
            for _ in read_chunks(data):
                pass
        except FileRejected:  # pragma: no cover - would be an inconsistency
            pytest.fail("validate_file accepted a file read_chunks rejects")


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_files_never_crash(data):
    _check(data)


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=3000))
def test_binary_garbage_never_crashes(data):
    _check(data)


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=2000))
def test_garbage_behind_a_valid_header(data):
    _check(SEEDS["char"][:426] + data)
    _check(SEEDS["packed"][:370] + data)


def test_seeds_are_valid():
    for data in SEEDS.values():
        assert validate_file(data).status == "valid"
