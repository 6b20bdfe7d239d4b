"""Chunks read ahead in a thread arrive in order, errors surface where they happened, and a
consumer that stops early stops the producer instead of letting it read the whole file."""

from __future__ import annotations

import threading

import pytest

from openbureau.furnishing.errors import FileRejected
from openbureau.furnishing.prefetch import prefetched


def _counting(produced: list[int]):
    """A long producer that notes each item it makes."""

    def produce():
        for i in range(10_000):
            produced.append(i)
            yield i

    return produce


def test_items_arrive_in_order_from_another_thread():
    threads = []

    def produce():
        for i in range(200):
            threads.append(threading.get_ident())
            yield i

    assert list(prefetched(produce)) == list(range(200))
    assert set(threads) != {threading.get_ident()}


def test_a_producer_error_is_raised_after_the_items_before_it():
    def produce():
        yield 1
        yield 2
        raise FileRejected("trailer_mismatch", "counts differ")

    seen = []
    with pytest.raises(FileRejected) as caught:
        for item in prefetched(produce):
            seen.append(item)
    assert seen == [1, 2]
    assert caught.value.rule == "trailer_mismatch"


def test_stopping_early_stops_the_producer():
    produced: list[int] = []
    produce = _counting(produced)

    for item in prefetched(produce, depth=1):
        if item == 3:
            break
    # Item 3 is being consumed, at most one more waits in the queue and one more may have
    # been produced while the queue was full.
    assert len(produced) <= 6


def test_the_consumer_error_stops_the_producer():
    produced: list[int] = []
    produce = _counting(produced)

    with pytest.raises(RuntimeError):
        for item in prefetched(produce):
            if item == 2:
                raise RuntimeError("database went away")
    assert len(produced) <= 5


def test_the_producer_starts_before_the_first_item_is_asked_for():
    started = threading.Event()

    def produce():
        started.set()
        yield from range(3)

    chunks = prefetched(produce)
    # The submission hashes the file and looks it up meanwhile.
    assert started.wait(timeout=5)
    assert list(chunks) == [0, 1, 2]


def test_closing_unread_stops_the_producer():
    produced: list[int] = []
    produce = _counting(produced)

    with prefetched(produce, depth=1):
        pass  # a replayed file: nothing is read
    assert len(produced) <= 3
    assert not [t for t in threading.enumerate() if t.name == "chunk-prefetch"]
