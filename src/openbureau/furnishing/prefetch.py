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
from typing import TypeVar

T = TypeVar("T")
_END = object()


def prefetched(produce: Callable[[], Iterator[T]], depth: int = 1) -> Iterator[T]:
    """The items of `produce()`, computed one step ahead in a background thread.

    An exception raised while producing is raised here, where the item would have been.
    Leaving the loop early stops the producer after at most one more item.
    """
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stopped = threading.Event()

    def offer(entry: tuple) -> bool:
        while not stopped.is_set():
            try:
                ready.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for item in produce():
                if not offer((item, None)):
                    return
            offer((_END, None))
        except BaseException as exc:  # handed to the consumer, who raises it
            offer((_END, exc))

    worker = threading.Thread(target=run, name="chunk-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item, error = ready.get()
            if item is _END:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stopped.set()
        worker.join()
