"""`safeguard serve` with each worker's event-loop thread under cProfile (benchmark use only).

Starts W worker processes exactly as `safeguard.cli.serving.serve` configures them (the
same uvicorn config, SO_REUSEPORT sockets), each running under `cProfile`; on SIGTERM each
worker stops gracefully and writes ``worker-<pid>.prof`` into the folder given. Only the
thread running the event loop is profiled (its CPU time, from the end of start-up), which
is where `/v1/match` by hash runs; read
the files with ``python -m pstats``. Profiling slows Python code several-fold, so read
shares of the time, not absolute figures.

`bench_service.py --profile DIR` starts the server this way; by hand:

    SAFEGUARD_DATA_DIR=... python benchmarks/service/profiled_serve.py DIR PORT WORKERS DB_URL
"""

from __future__ import annotations

import cProfile
import multiprocessing
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any


def _worker(folder: str, host: str, port: int) -> None:
    import uvicorn

    from safeguard.cli import serving
    from safeguard.settings import load_settings

    serving.HeaderDeadlineProtocol.head_timeout = float(load_settings().header_timeout_seconds)
    sock = serving.listening_socket(host, port)
    # CPU time of this (the event loop's) thread: wall time would count the time the
    # worker waits for a CPU on a busy machine.
    profile = cProfile.Profile(time.thread_time)

    class ProfiledServer(uvicorn.Server):
        async def startup(self, sockets: list[Any] | None = None) -> None:
            await super().startup(sockets)
            profile.enable()  # after start-up: imports and the index load are not profiled

    server = ProfiledServer(serving.server_config("warning"))
    # uvicorn re-raises the SIGTERM it handled once it has stopped, under the handler found
    # at start: a no-op one lets this function go on to write the stats.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: None)
    try:
        server.run(sockets=[sock])
    finally:
        profile.disable()
        profile.dump_stats(str(Path(folder) / f"worker-{os.getpid()}.prof"))


def main() -> None:
    folder, port, workers, url = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    Path(folder).mkdir(parents=True, exist_ok=True)
    os.environ["SAFEGUARD_DATABASE_URL"] = url
    os.environ.setdefault("SAFEGUARD_SQLITE_BUSY_TIMEOUT_MS", "2000")  # as `safeguard serve`
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_worker, args=(folder, "127.0.0.1", port)) for _ in range(workers)
    ]
    for process in processes:
        process.start()
    stopping = False

    def stop(_signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping and all(p.is_alive() for p in processes):
        time.sleep(0.2)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(30)


if __name__ == "__main__":
    main()
