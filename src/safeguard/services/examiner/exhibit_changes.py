"""Has an exhibit changed since its completed scan? Compared by path, size and modified time.

A completed exhibit that is scanned again must give the same files. If it does not (a file
added, replaced or gone), the scan is refused unless the examiner asks for a rescan; then
the changed files are hashed again and every run's manifest stays in the audit log.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from safeguard.domain.cases import Case, Exhibit, FileResult
from safeguard.domain.errors import EvidenceError
from safeguard.extraction.contract import EvidenceItem
from safeguard.services.examiner.cases import CaseService

_EXAMPLES = 3


@dataclass(frozen=True, slots=True)
class ExhibitChange:
    """How an exhibit differs from what its runs recorded."""

    added: tuple[str, ...]
    changed: tuple[str, ...]
    missing: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.missing)

    def describe(self) -> str:
        """One sentence: the counts, with up to three example paths."""
        parts = []
        for label, paths in (
            ("new", self.added),
            ("changed", self.changed),
            ("gone", self.missing),
        ):
            if paths:
                shown = ", ".join(paths[:_EXAMPLES]) + (", ..." if len(paths) > _EXAMPLES else "")
                parts.append(f"{len(paths):,} {label} ({shown})")
        return "; ".join(parts)


def _instant(value: datetime | None) -> float | None:
    if value is None or value.tzinfo is None:
        return None
    return value.timestamp()


def differs(item: EvidenceItem, recorded: FileResult) -> bool:
    """True when the item's size or modified time is not what was recorded for its path."""
    if recorded.size is not None and item.size != recorded.size and not item.file.error:
        return True
    now, then = _instant(item.file.modified), _instant(recorded.modified)
    return now is not None and then is not None and abs(now - then) > 1e-3


def compare(items: Iterator[EvidenceItem], recorded: Iterable[FileResult]) -> ExhibitChange:
    """Walk the exhibit (no content read) and compare it with the recorded results."""
    known = {result.path: result for result in recorded}
    seen: set[str] = set()
    added: list[str] = []
    changed: list[str] = []
    for item in items:
        if item.path in seen:
            continue
        seen.add(item.path)
        result = known.get(item.path)
        if result is None:
            added.append(item.path)
        elif differs(item, result):
            changed.append(item.path)
    missing = sorted(set(known) - seen)
    return ExhibitChange(tuple(added), tuple(changed), tuple(missing))


def check_before_rescan(
    cases: CaseService,
    case: Case,
    exhibit: Exhibit | None,
    items: Iterator[EvidenceItem],
    *,
    rescan: bool,
    examiner: str,
) -> frozenset[str]:
    """Refuse (or, with `rescan`, record) a change in an exhibit whose last scan completed.

    Returns:
        Paths to hash again (changed files); empty when nothing changed or the exhibit has
        no completed scan (a resume or a first scan).

    Raises:
        EvidenceError: the exhibit changed and `rescan` is False; nothing is recorded.
    """
    if exhibit is None:
        return frozenset()
    runs = cases.store.runs(exhibit.exhibit_id)
    if not runs or runs[-1].finished_at is None:
        return frozenset()
    change = compare(items, cases.store.results(exhibit.exhibit_id))
    if not change:
        return frozenset()
    if not rescan:
        raise EvidenceError(
            f"exhibit {exhibit.reference} of case {case.number} changed since its completed "
            f"scan: {change.describe()}. Nothing was recorded. Scan it as a new exhibit "
            "(--exhibit-ref), or record a new run of it with --rescan-changed"
        )
    cases.audit(
        examiner,
        "exhibit.changed",
        case_id=case.case_id,
        exhibit_id=exhibit.exhibit_id,
        detail={
            "exhibit": exhibit.reference,
            "new": str(len(change.added)),
            "changed": str(len(change.changed)),
            "gone": str(len(change.missing)),
            "previous_manifest_sha256": exhibit.manifest_sha256 or "",
        },
    )
    return frozenset(change.changed)
