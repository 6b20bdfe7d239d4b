"""Reading the next chunk of a file while the database loads the current one.

Parsing and validating a chunk is polars and NumPy work; loading it is mostly waiting for
the database. A producer thread keeps at most `depth` chunks ready, so memory stays bounded
by chunk size whatever the file size, and while the main thread waits on the database
(the driver releases the GIL) the next chunk is parsed on the other core.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")
_END = object()


class Prefetched(Generic[T]):
    """The items of `produce()`, computed one step ahead in a background thread that starts
    at once, so that the first item is on its way while the caller does something else.

    An exception raised while producing is raised where the item would have been. Leaving
    the loop early, or `close()` (also on leaving a `with` block), stops the producer after
    at most one more item.
    """

    def __init__(self, produce: Callable[[], Iterator[T]], depth: int = 1) -> None:
        self._ready: queue.Queue = queue.Queue(maxsize=depth)
        self._stopped = threading.Event()
        self._produce = produce
        self._worker = threading.Thread(target=self._run, name="chunk-prefetch", daemon=True)
        self._worker.start()

    def _offer(self, entry: tuple) -> bool:
        while not self._stopped.is_set():
            try:
                self._ready.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            for item in self._produce():
                if not self._offer((item, None)):
                    return
            self._offer((_END, None))
        except BaseException as exc:  # handed to the consumer, who raises it
            self._offer((_END, exc))

    def __iter__(self) -> Iterator[T]:
        try:
            while True:
                item, error = self._ready.get()
                if item is _END:
                    if error is not None:
                        raise error
                    return
                yield item
        finally:
            self.close()

    def close(self) -> None:
        self._stopped.set()
        self._worker.join()

    def __enter__(self) -> Prefetched[T]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def prefetched(produce: Callable[[], Iterator[T]], depth: int = 1) -> Prefetched[T]:
    return Prefetched(produce, depth)
