"""Hash uploads in a few decode subprocesses with a memory limit, a deadline and cancellation.

A hostile image can make a decoder take gigabytes and many seconds, and a decoder holding
the GIL (or stuck in C) would starve a web worker's event loop. `IsolatedHasher` keeps
decoding out of the calling process:

* **Subprocesses.** ``workers`` long-lived processes (started with ``spawn``: no state of
  the web worker is inherited), each with ``RLIMIT_AS`` set to ``memory_bytes``, so a
  decode that asks for too much memory fails inside it (an error record, or the process
  dies) and never in the caller.
* **Priority.** Subprocesses run `DECODER_NICENESS` (10) steps below their web worker
  (``nice``), so a worker's event loop (health checks, hash queries) is scheduled before
  decoding when the CPUs are busy. The parent lowers a new subprocess's priority as soon as
  it exists, so that not even its interpreter start-up competes with the worker at equal
  priority; the subprocess sets the same value again itself (not cumulatively).
* **Concurrency and waiting.** At most ``workers`` decodes run at once per calling
  process; a call waits up to ``wait_seconds`` for a free one, then raises
  `OverloadedError` (the web layer answers 503 with Retry-After).
* **Deadline and cancellation.** A decode running past ``deadline_seconds``, or whose
  ``cancel`` event is set (the client went away), has its process killed; a fresh one is
  started in its place on the next call. The caller gets `DecodeTimeoutError` (an
  `InputError`) or `CancelledDecodeError`.
* **Pixel budgets.** A call may pass a `PixelBudget` shared by the items of one batch: each
  item may decode at most what is left of it, and what it decoded is taken from it.

The overhead on an ordinary upload is one pipe round trip of its bytes and its hashes
(measured in docs/service.md).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
import time
from dataclasses import replace
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from queue import Empty, LifoQueue
from typing import TYPE_CHECKING

from safeguard.domain.errors import DecodeTimeoutError, OverloadedError, SafeguardError
from safeguard.hashing.contract import PixelBudget

if TYPE_CHECKING:
    from safeguard.domain.file_hashes import FileHashes
    from safeguard.hashing.contract import HashOptions

logger = logging.getLogger(__name__)

_CONTEXT = multiprocessing.get_context("spawn")
_READY = "ready"
_STARTUP_SECONDS = 60.0

DECODER_NICENESS = 10
"""How many ``nice`` steps below its web worker a decode subprocess runs."""


def _decoder_priority() -> int:
    """The ``nice`` value decode subprocesses of this process get (at most 19)."""
    return min(19, os.getpriority(os.PRIO_PROCESS, 0) + DECODER_NICENESS)


class CancelledDecodeError(SafeguardError):
    """The caller cancelled the decode (the client disconnected); nothing was answered."""


class DecoderCrashedError(SafeguardError):
    """A decode subprocess died while decoding (memory limit, or a decoder crash)."""


def hash_with_limit(
    data: bytes, name: str, options: HashOptions, allowance: int
) -> tuple[FileHashes, int]:
    """`hash_bytes` with at most `allowance` pixels decoded; also returns the pixels decoded."""
    from safeguard.domain.media import SNIFF_BYTES, sniff_media_type
    from safeguard.hashing.image_decoding import open_image
    from safeguard.hashing.pdq import FAST_MIN_SIDE, JPEG_MAX_REDUCTION
    from safeguard.hashing.pipeline import hash_bytes

    hashes = hash_bytes(data, name, replace(options, max_image_pixels=max(1, allowance)))
    if hashes.pdq is None:
        return hashes, 0
    # Read the header again (cheap) for the size that was decoded, after any JPEG reduction.
    mime = sniff_media_type(data[:SNIFF_BYTES]).mime
    with open_image(data, mime, allowance * JPEG_MAX_REDUCTION) as image:
        if options.pdq_mode == "fast" and image.format == "JPEG":
            image.draft(None, (FAST_MIN_SIDE, FAST_MIN_SIDE))
        width, height = image.size
    return hashes, width * height


def _child_main(conn: Connection, options: HashOptions, memory_bytes: int, niceness: int) -> None:
    """A decode subprocess: hash what arrives on `conn` until it closes."""
    import resource
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when this one ends
    # Below the web worker in CPU priority: health checks and cheap requests go first.
    # (The parent set it already; set, not added, so it is the same either way.)
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, 0, niceness)
    # Imported (and every decoder loaded) before the limit and the first upload, so
    # neither pays for it.
    import safeguard.hashing.pipeline  # noqa: F401
    from safeguard.hashing.image_decoding import load_decoders

    load_decoders()

    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    try:
        conn.send(_READY)
    except (OSError, ValueError):
        return
    while True:
        try:
            name, allowance = conn.recv()
            data = conn.recv_bytes()
        except (EOFError, OSError):
            return
        try:
            answer: object = hash_with_limit(data, name, options, allowance)
        except MemoryError:
            answer = MemoryError()
        del data
        try:
            conn.send(answer)
        except (OSError, ValueError):
            return


class _Slot:
    """One decode subprocess and the parent's end of its pipe."""

    def __init__(self, options: HashOptions, memory_bytes: int) -> None:
        parent, child = _CONTEXT.Pipe(duplex=True)
        env_threads = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        saved = {k: os.environ.get(k) for k in env_threads}
        os.environ.update(env_threads)  # inherited by the spawned child only at start
        try:
            niceness = _decoder_priority()
            self.process: BaseProcess = _CONTEXT.Process(
                target=_child_main,
                args=(child, options, memory_bytes, niceness),
                name="safeguard-decoder",
                daemon=True,
            )
            self.process.start()
            # At once, before the interpreter in it has started: its imports (a second of
            # CPU) then never compete with the worker's event loop at equal priority.
            if self.process.pid is not None:
                with contextlib.suppress(OSError):
                    os.setpriority(os.PRIO_PROCESS, self.process.pid, niceness)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        child.close()
        self.conn = parent
        self.ready = False

    def wait_ready(self, timeout: float) -> bool:
        """True once the subprocess has imported its decoders (its first message)."""
        if not self.ready:
            try:
                if not self.conn.poll(timeout):
                    return False
                self.ready = self.conn.recv() == _READY
            except (EOFError, OSError):
                return False
        return self.ready

    def kill(self) -> None:
        try:
            self.process.kill()
            self.process.join(2)
        except (OSError, ValueError, AssertionError):
            pass
        self.conn.close()

    @property
    def alive(self) -> bool:
        return self.process.is_alive()


class IsolatedHasher:
    """Hashes uploads in memory-limited subprocesses (see the module docstring).

    Args:
        options: hashing options for every upload (their ``max_image_pixels`` is the
            per-upload pixel budget).
        workers: decode subprocesses, i.e. concurrent decodes of this process.
        deadline_seconds: longest a decode may run.
        wait_seconds: longest a call waits for a free subprocess.
        memory_bytes: ``RLIMIT_AS`` of each subprocess (address space; 0 for none).
    """

    def __init__(
        self,
        options: HashOptions,
        workers: int = 2,
        deadline_seconds: float = 10.0,
        wait_seconds: float = 5.0,
        memory_bytes: int = 1536 * 1024 * 1024,
    ) -> None:
        self._options = options
        self._deadline = deadline_seconds
        self._wait = wait_seconds
        self._memory = memory_bytes
        self._idle: LifoQueue[_Slot | None] = LifoQueue()
        for _ in range(max(1, workers)):
            self._idle.put(None)
        self._lock = threading.Lock()
        self._all: set[_Slot] = set()
        self._closed = False

    @property
    def options(self) -> HashOptions:
        """The options every upload is hashed with."""
        return self._options

    def start(self) -> None:
        """Start every subprocess now (else each starts on first use)."""
        slots: list[_Slot | None] = []
        while True:
            try:
                slots.append(self._idle.get_nowait())
            except Empty:
                break
        for slot in slots:
            self._idle.put(slot if slot is not None and slot.alive else self._spawn())

    def close(self) -> None:
        """Stop every subprocess."""
        with self._lock:
            self._closed = True
            slots = list(self._all)
            self._all.clear()
        for slot in slots:
            slot.kill()

    def __call__(
        self,
        data: bytes,
        name: str,
        budget: PixelBudget | None = None,
        cancel: threading.Event | None = None,
    ) -> FileHashes:
        """Hash `data` in a subprocess; the result is what `hash_bytes` would give.

        Raises:
            OverloadedError: no subprocess came free within ``wait_seconds``.
            DecodeTimeoutError: the decode ran past the deadline and was stopped.
            CancelledDecodeError: `cancel` was set while decoding.
            DecoderCrashedError: the subprocess died (memory limit, decoder crash).
        """
        allowance = self._options.max_image_pixels
        if budget is not None:
            allowance = min(allowance, budget.remaining)
        try:
            slot = self._idle.get(timeout=self._wait)
        except Empty as exc:
            raise OverloadedError(
                "every image decoder of this worker is busy; retry shortly",
                retry_after=max(1, round(self._deadline / 2)),
            ) from exc
        try:
            if slot is None or not slot.alive:
                if slot is not None:
                    self._forget(slot)
                slot = self._spawn()
            hashes, pixels, slot = self._run(slot, data, name, allowance, cancel)
        finally:
            # A killed subprocess is replaced at once, so that the next call does not wait
            # for its replacement to import the decoders.
            if slot is not None and not slot.alive and not self._closed:
                try:
                    slot = self._spawn()
                except OverloadedError:
                    slot = None
            self._idle.put(slot)
        if budget is not None:
            budget.spend(pixels)
            if hashes.error and allowance < self._options.max_image_pixels and pixels == 0:
                hashes = replace(
                    hashes,
                    error=f"{hashes.error} (what is left of this batch's pixel budget of "
                    f"{budget.total:,})",
                )
        return hashes

    def _run(
        self,
        slot: _Slot,
        data: bytes,
        name: str,
        allowance: int,
        cancel: threading.Event | None,
    ) -> tuple[FileHashes, int, _Slot | None]:
        if not slot.wait_ready(_STARTUP_SECONDS):
            self._forget(slot)
            raise DecoderCrashedError("the image decoder did not start")
        try:
            # The bytes go as they are (`send_bytes` writes from the buffer): pickling them
            # with the rest would copy a 50 MB upload once more in the web worker.
            slot.conn.send((name, allowance))
            slot.conn.send_bytes(data)
        except (OSError, ValueError) as exc:
            self._forget(slot)
            raise DecoderCrashedError("the image decoder could not be reached") from exc
        deadline = time.monotonic() + self._deadline
        while True:
            try:
                ready = slot.conn.poll(0.05)
            except (OSError, ValueError):
                ready = True
            if ready:
                break
            if cancel is not None and cancel.is_set():
                self._forget(slot)
                raise CancelledDecodeError("the client went away; decoding stopped")
            if time.monotonic() >= deadline:
                self._forget(slot)
                raise DecodeTimeoutError(
                    f"decoding took longer than {self._deadline:g} s and was stopped"
                )
        try:
            answer = slot.conn.recv()
        except (EOFError, OSError) as exc:
            self._forget(slot)
            raise DecoderCrashedError(
                "the image decoder stopped while decoding (over its memory limit or crashed)"
            ) from exc
        if isinstance(answer, MemoryError):
            self._forget(slot)
            raise DecoderCrashedError("decoding needed more memory than the decoder may use")
        hashes, pixels = answer
        return hashes, int(pixels), slot

    def _spawn(self) -> _Slot:
        slot = _Slot(self._options, self._memory)
        with self._lock:
            if self._closed:
                slot.kill()
                raise OverloadedError("the image decoders are shut down")
            self._all.add(slot)
        return slot

    def _forget(self, slot: _Slot) -> None:
        slot.kill()
        with self._lock:
            self._all.discard(slot)
