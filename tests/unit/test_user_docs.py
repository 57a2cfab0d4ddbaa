"""Issue 12 item 10: the README and docs/ speak to users: no developer notes, no paths
outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = [
    (re.compile(r"/work/|/home/\w+/|/tmp/pytest"), "a path outside the repository"),
    (re.compile(r"\bengineers?'?s?\b", re.IGNORECASE), "a note about the developers"),
    (re.compile(r"\b(issue|stop) \d+\b", re.IGNORECASE), "a development ticket"),
    (re.compile(r"\bTODO\b|\bFIXME\b|\bXXX\b"), "a developer's reminder"),
]


def test_user_documents_hold_no_developer_notes() -> None:
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    problems = [
        f"{doc.relative_to(ROOT)}:{number}: {why}: {line.strip()[:80]}"
        for doc in documents
        for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), start=1)
        for pattern, why in FORBIDDEN
        if pattern.search(line)
    ]
    assert problems == []
