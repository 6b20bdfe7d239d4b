"""The compiled keyed BLAKE2b behind the blind indexes gives exactly hashlib's digests.

Stored blind indexes and blocking keys were written with hashlib; a digest that differed
in any byte would silently stop every exact identity lookup from finding its subject.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openbureau.governance import _blake2
from openbureau.governance.crypto import BureauKeys

keys_32 = st.binary(min_size=32, max_size=32)
prefixes = st.binary(min_size=1, max_size=40)
# Lengths around the 128-byte block edges matter most: one, two and three blocks.
texts = st.one_of(
    st.text(max_size=300),
    st.integers(min_value=0, max_value=400).map(lambda n: "x" * n),
)


def _reference(key: bytes, prefix: bytes, value: str) -> bytes:
    return hashlib.blake2b(prefix + value.encode(), key=key, digest_size=32).digest()


@settings(max_examples=300, deadline=None)
@given(keys_32, prefixes, st.lists(texts, max_size=20))
def test_hex_digests_are_hashlibs(key, prefix, values):
    expected = [_reference(key, prefix, v).hex() for v in values]
    assert _blake2.hex_digests(key, prefix, values) == expected


@settings(max_examples=300, deadline=None)
@given(keys_32, prefixes, st.lists(texts, max_size=20))
def test_leading_int64s_are_the_digests_first_eight_bytes(key, prefix, values):
    expected = [int.from_bytes(_reference(key, prefix, v)[:8], "big", signed=True) for v in values]
    packed = _blake2.leading_int64s(key, prefix, values)
    assert [int.from_bytes(packed[i : i + 8], "little", signed=True)
            for i in range(0, len(packed), 8)] == expected


def test_every_length_across_three_blocks():
    key, prefix = bytes(range(32)), b"identity\x00"
    values = ["\u5f20" * (n // 3) + "a" * (n % 3) for n in range(400)]
    expected = [_reference(key, prefix, v).hex() for v in values]
    assert _blake2.hex_digests(key, prefix, values) == expected


def test_bureau_keys_give_the_same_indexes_as_hashlib():
    keys = BureauKeys.generate()
    values = ["110101199003074514", "张伟", "", "1990-03-07"]
    assert keys.blind_index_many("name", values) == [
        _reference(keys.blind_index_key, b"name\x00", v).hex() for v in values
    ]
    assert keys.blocking_index_many(values) == [
        int.from_bytes(_reference(keys.blind_index_key, b"blocking\x00", v)[:8], "big", signed=True)
        for v in values
    ]


@pytest.mark.parametrize(
    ("key", "prefix", "values", "error"),
    [
        (b"k" * 31, b"p\x00", ["a"], ValueError),
        (b"k" * 32, b"", ["a"], ValueError),
        (b"k" * 32, b"p\x00", ["a", None], TypeError),
        (b"k" * 32, b"p\x00", ("a",), TypeError),
        (b"k" * 32, b"p\x00", ["\ud800"], UnicodeEncodeError),
    ],
)
def test_bad_arguments_raise(key, prefix, values, error):
    with pytest.raises(error):
        _blake2.hex_digests(key, prefix, values)
    with pytest.raises(error):
        _blake2.leading_int64s(key, prefix, values)
