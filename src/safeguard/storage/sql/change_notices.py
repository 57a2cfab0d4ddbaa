"""Hearing about list changes as they commit, from PostgreSQL, instead of polling for them.

Every write to the hash-list store bumps its revision and, on PostgreSQL, sends
``NOTIFY safeguard_list_changes, '<revision>'`` in the same transaction, so the notice is
delivered when (and only if) the change commits, whichever process or machine made it: a
service replica, ``safeguard lists import`` on an analyst's workstation, a migration.
`ListChangeListener` holds one dedicated connection that LISTENs and calls back on each
notice; the service's `IndexKeeper` then catches up at once. After a lost connection it
reconnects and calls back once (a notice may have been missed meanwhile), so a replica is
never left behind; the keeper's slow poll stays as a safety net.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy.engine import make_url

from safeguard.storage.sql.hash_list_writes import LIST_CHANGES_CHANNEL

logger = logging.getLogger(__name__)

RECONNECT_SECONDS = 1.0


def libpq_url(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL (``postgresql+psycopg://...``) as a libpq connection URI."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class ListChangeListener:
    """LISTENs for committed list changes on its own connection, from its own thread.

    Args:
        url: the store's SQLAlchemy URL (PostgreSQL).
        on_change: called with the new revision for each notice, and with -1 after each
            (re)connection; it must be quick and must not raise (it wakes another thread).
    """

    def __init__(
        self,
        url: str,
        on_change: Callable[[int], None],
        reconnect_seconds: float = RECONNECT_SECONDS,
    ) -> None:
        self._conninfo = libpq_url(url)
        self._on_change = on_change
        self._reconnect = reconnect_seconds
        self._stop = threading.Event()
        self._listening = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start listening in the background."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="list-changes", daemon=True)
        self._thread.start()

    def wait_listening(self, timeout: float) -> bool:
        """Block until the listener is connected; False after `timeout` seconds."""
        return self._listening.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop listening and close the connection."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {LIST_CHANGES_CHANNEL}")
                    self._on_change(-1)
                    self._listening.set()
                    while not self._stop.is_set():
                        for notice in conn.notifies(timeout=0.5):
                            self._on_change(_revision_of(notice.payload))
            except Exception as exc:  # the server went away: reconnect, never die
                self._listening.clear()
                # The type only: driver messages can carry connection details.
                logger.warning("list-change listener lost its connection (%s)", type(exc).__name__)
                self._stop.wait(self._reconnect)
        self._listening.clear()


def _revision_of(payload: str) -> int:
    try:
        return int(payload)
    except ValueError:
        return -1
