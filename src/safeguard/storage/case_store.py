"""The port for cases, exhibits, scan runs, per-file results and the append-only audit log."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Protocol

from safeguard.domain.cases import (
    AuditEvent,
    Case,
    Exhibit,
    ExhibitKind,
    FileResult,
    FileStatus,
    ListVersion,
    ScanRun,
)


class CaseStore(Protocol):
    """Where cases and scan results live.

    Results are keyed by (exhibit, path): recording a result for a path that already has
    one replaces it, so a resumed scan that redoes a few files never duplicates a row.
    `record_results` is atomic: after a crash either the whole batch is there or none of it.
    The audit log has no update or delete operation, on purpose.

    Lookups of missing objects raise `NotFoundError`; a duplicate case number raises
    `StorageError`.
    """

    def create_case(
        self, number: str, examiner: str, description: str, created_at: datetime
    ) -> Case:
        """Open a new case; the number must be unused."""
        ...

    def case_by_number(self, number: str) -> Case:
        """The case with this number."""
        ...

    def case_by_id(self, case_id: int) -> Case:
        """The case with this id."""
        ...

    def all_cases(self) -> list[Case]:
        """Every case, oldest first."""
        ...

    def ensure_exhibit(
        self,
        case_id: int,
        reference: str,
        source_path: str,
        kind: ExhibitKind,
        created_at: datetime,
    ) -> Exhibit:
        """The exhibit with this reference in the case, registering it if new."""
        ...

    def exhibit_by_id(self, exhibit_id: int) -> Exhibit:
        """The exhibit with this id."""
        ...

    def exhibits(self, case_id: int) -> list[Exhibit]:
        """The case's exhibits, in the order they were registered."""
        ...

    def update_exhibit(
        self,
        exhibit_id: int,
        *,
        acquisition_hash: str | None = None,
        acquisition_verified: bool | None = None,
        manifest_sha256: str | None = None,
        acquisition_status: str | None = None,
        acquisition_segments: Sequence[str] | None = None,
    ) -> Exhibit:
        """Set the given integrity fields (None leaves a field as it is)."""
        ...

    def start_run(
        self,
        exhibit_id: int,
        started_at: datetime,
        tool_version: str,
        examiner: str,
        lists: Sequence[ListVersion],
    ) -> ScanRun:
        """Record the start of a scan run."""
        ...

    def finish_run(self, run_id: int, finished_at: datetime) -> ScanRun:
        """Mark a run completed."""
        ...

    def runs(self, exhibit_id: int) -> list[ScanRun]:
        """The exhibit's runs, oldest first."""
        ...

    def recorded_paths(self, exhibit_id: int) -> set[str]:
        """Paths that already have a committed result for the exhibit."""
        ...

    def record_results(self, exhibit_id: int, run_id: int, results: Sequence[FileResult]) -> None:
        """Insert or replace results by path, atomically, and add them to the run's count."""
        ...

    def results(self, exhibit_id: int) -> Iterator[FileResult]:
        """The exhibit's results ordered by path."""
        ...

    def status_counts(self, exhibit_id: int) -> dict[FileStatus, int]:
        """Number of results per status (statuses without results are absent)."""
        ...

    def append_audit(self, event: AuditEvent) -> AuditEvent:
        """Append one event to the audit log and return it with its id."""
        ...

    def audit_events(self, case_id: int | None = None) -> list[AuditEvent]:
        """Events in the order they were appended; only the case's when `case_id` is given."""
        ...
