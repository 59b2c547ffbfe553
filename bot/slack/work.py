"""A bounded worker pool: listeners hand slow work here so every Slack request is acked at once."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from core.errors import PlumeError

log = logging.getLogger(__name__)


class Busy(PlumeError):
    """The queue is full: better a clear "try again" than an unbounded backlog."""


class WorkPool:
    def __init__(self, *, workers: int, size: int, name: str):
        self.name = name
        self._queue: queue.Queue = queue.Queue(maxsize=size)
        self._pending = 0
        self._idle = threading.Condition()
        self._threads = [threading.Thread(target=self._loop, name=f"{name}-{i}", daemon=True) for i in range(workers)]
        for thread in self._threads:
            thread.start()

    def submit(self, fn: Callable, *args, **kwargs) -> None:
        with self._idle:
            self._pending += 1
        try:
            self._queue.put_nowait((fn, args, kwargs))
        except queue.Full:
            self._done()
            raise Busy("Plume is very busy right now; try again in a minute.") from None

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            fn, args, kwargs = item
            try:
                fn(*args, **kwargs)
            except Exception:
                log.exception("background task %s failed", getattr(fn, "__name__", fn))
            finally:
                self._done()

    def _done(self) -> None:
        with self._idle:
            self._pending -= 1
            if self._pending == 0:
                self._idle.notify_all()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def shutdown(self, timeout: float = 30.0) -> None:
        self.wait_idle(timeout)
        for _ in self._threads:
            try:
                self._queue.put_nowait(None)
            except queue.Full:
                break
