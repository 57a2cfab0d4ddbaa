"""One daemon thread that runs a step now and then: every `interval` seconds, or when woken.

The service's background work (index refresh, seen-upload writes, deferred records,
webhook deliveries, retroactive jobs) shares this lifecycle: started once, woken early
when there is news, stopped with a join, and kept alive through a failing step (the store
may be briefly unavailable; the step is tried again at the next interval).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)


class BackgroundLoop:
    """Runs `step` on a daemon thread named `name`, at most `interval` seconds apart.

    Args:
        name: the thread's name (shown in stack dumps and profiles).
        step: one pass of the work; an exception is logged with `failure` and the loop
            goes on. A long step should look at `stopping` to end early.
        interval: seconds to wait between passes unless `wake` is called.
        wait_first: wait one interval (or a wake) before the first pass, for work that
            is only due once something has happened.
        failure: the log message of a step that raised.
    """

    def __init__(
        self,
        name: str,
        step: Callable[[], object],
        interval: float,
        *,
        wait_first: bool = False,
        failure: str = "background pass failed",
    ) -> None:
        self._name = name
        self._step = step
        self._interval = interval
        self._wait_first = wait_first
        self._failure = failure
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """True while the thread runs."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def stopping(self) -> bool:
        """True once `stop` was called (until the next `start`)."""
        return self._stop.is_set()

    def start(self) -> None:
        """Start the thread; idempotent."""
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Run the next pass now rather than at the end of the interval."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread after its current pass, waiting up to `timeout` seconds."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        if self._wait_first:
            self._pause()
        while not self._stop.is_set():
            try:
                self._step()
            except Exception:  # keep the thread alive; the next pass tries again
                logger.exception("%s: %s", self._name, self._failure)
            self._pause()

    def _pause(self) -> None:
        self._wake.wait(self._interval)
        self._wake.clear()
