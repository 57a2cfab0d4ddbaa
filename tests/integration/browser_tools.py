"""Debian's Chromium and poppler-utils for tests that look at reports as a person does.

Outside CI a missing tool skips the test; under CI (``CI=true``) it fails it.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from html import unescape
from pathlib import Path

from tests.conftest import require_tool


def chromium() -> str:
    """Debian's Chromium."""
    return require_tool("/usr/bin/chromium", "chromium", "chromium-browser")


def chromium_args(profile: Path) -> list[str]:
    """Flags for a headless run that reaches nothing but local files."""
    return [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--hide-scrollbars",
        "--proxy-server=127.0.0.1:9",
        f"--user-data-dir={profile}",
    ]


@dataclass(frozen=True)
class PrintedPage:
    """One page of a PDF as poppler reads it."""

    number: int
    width: float
    text: str
    reading: str  # in reading order, lines rejoined (pdftotext drops a hyphen at a line end)
    words: list[tuple[str, float, float]]  # (word, x_min, x_max)


def pdf_pages(pdf: Path) -> list[PrintedPage]:
    """Every page's text and word positions (``pdftotext -bbox``)."""
    require_tool("pdftotext")
    layout = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout.split("\f")
    reading = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout.split("\f")
    boxes = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = []
    for number, match in enumerate(
        re.finditer(r"<page width=\"([\d.]+)\"[^>]*>(.*?)</page>", boxes, re.S)
    ):
        words = [
            (unescape(w.group(3)), float(w.group(1)), float(w.group(2)))
            for w in re.finditer(
                r"<word xMin=\"([\d.]+)\" yMin=\"[\d.]+\" xMax=\"([\d.]+)\" yMax=\"[\d.]+\">(.*?)</word>",
                match.group(2),
            )
        ]
        pages.append(
            PrintedPage(number + 1, float(match.group(1)), layout[number], reading[number], words)
        )
    return pages


def pdf_to_png(pdf: Path, out_prefix: Path, *, first: int = 1, last: int = 2) -> list[Path]:
    """Render pages to PNG images (``pdftoppm``) and return them."""
    require_tool("pdftoppm")
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "40",
            "-f",
            str(first),
            "-l",
            str(last),
            str(pdf),
            str(out_prefix),
        ],
        check=True,
        capture_output=True,
    )
    return sorted(out_prefix.parent.glob(f"{out_prefix.name}*.png"))
