"""Issue 12 item 8, in a real terminal (tmux): Ctrl-C says what was kept and how to resume;
the resumed bar starts at the work already done, shows N of total files, labelled times,
and the scan ends with a real rate."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from safeguard.services.demo.pictures import encode, synthetic_photo
from tests.conftest import require_tool

pytestmark = pytest.mark.slow

FILES = 600  # enough that a quiet machine is still scanning when Ctrl-C arrives


class Terminal:
    """A tmux pane running bash, 150 columns wide."""

    def __init__(self, tmux: str, env: dict[str, str]) -> None:
        self.tmux = tmux
        self.socket = f"sg-test-{uuid.uuid4().hex[:8]}"
        self._run(
            "new-session", "-d", "-s", "t", "-x", "150", "-y", "45", "bash --norc --noprofile"
        )
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        self.type(f"export {exports} PS1='$ '; clear")

    def _run(self, *args: str) -> str:
        return subprocess.run(
            [self.tmux, "-L", self.socket, *args], capture_output=True, text=True, check=True
        ).stdout

    def type(self, line: str) -> None:
        self._run("send-keys", "-t", "t", line, "Enter")

    def ctrl_c(self) -> None:
        self._run("send-keys", "-t", "t", "C-c")

    def screen(self) -> str:
        return self._run("capture-pane", "-p", "-t", "t", "-S", "-200")

    def wait_for(self, found: Callable[[str], bool], timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.screen()
            if found(text):
                return text
            time.sleep(0.1)
        raise AssertionError(f"timed out; the screen shows:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run([self.tmux, "-L", self.socket, "kill-server"], check=False)


@pytest.fixture
def terminal(isolated_env: Path, tmp_path: Path) -> Iterator[Terminal]:
    tmux = require_tool("tmux")
    env = {"SAFEGUARD_DATA_DIR": str(isolated_env), "COLUMNS": "150"}
    pane = Terminal(tmux, env)
    yield pane
    pane.close()


def _done_of_total(text: str) -> list[int]:
    return [
        int(n.replace(",", "")) for n in re.findall(r"([\d,]+) of " + str(FILES) + " files", text)
    ]


def test_interrupt_and_resume_in_a_terminal(terminal: Terminal, tmp_path: Path) -> None:
    folder = tmp_path / "exhibit"
    folder.mkdir()
    for index in range(FILES):
        (folder / f"{index:03d}.jpg").write_bytes(encode(synthetic_photo(index, 320, 240)))
    safeguard = f"{shlex.quote(sys.executable)} -m safeguard"
    terminal.type(f"{safeguard} case new --number T-1 --examiner e && echo OPENED")
    terminal.wait_for(lambda s: "OPENED" in s)
    scan = f"{safeguard} scan {shlex.quote(str(folder))} --case T-1 --workers 1"
    terminal.type(scan)
    terminal.wait_for(lambda s: any(n >= 20 for n in _done_of_total(s)))
    terminal.ctrl_c()
    screen = terminal.wait_for(lambda s: "To resume" in s)
    assert "Interrupted. Exhibit exhibit has" in screen
    assert "every finished file is committed" in screen
    assert "--case T-1" in screen.split("To resume")[1]
    # The transient bar is gone: no progress line left behind, none printed twice.
    assert _done_of_total(screen.split("Interrupted.")[1]) == []
    assert "Traceback" not in screen
    kept = int(re.search(r"has ([\d,]+) files recorded", screen).group(1).replace(",", ""))
    assert 0 < kept < FILES

    terminal.type("clear")
    terminal.type(scan)
    first = terminal.wait_for(lambda s: bool(_done_of_total(s)))
    assert min(_done_of_total(first)) >= kept  # the bar starts at the work already done
    assert "elapsed" in first
    assert "remaining" in first
    done = terminal.wait_for(lambda s: "files checked" in s)
    assert f"{FILES - kept:,} files checked" in done
    assert f"{kept:,} already done in an earlier run" in done
    final = done.split("files checked")[1].splitlines()[0]
    assert re.search(r"\([\d,.]+ files/s, [\d,.]+ MB/s\)", final)
    assert "?" not in final
