"""An in-memory `CaseStore` for unit tests and throwaway runs; same contract as the SQL one."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime

from safeguard.domain.cases import (
    AuditEvent,
    Case,
    Exhibit,
    ExhibitKind,
    FileResult,
    FileStatus,
    ListVersion,
    RunState,
    ScanRun,
)
from safeguard.domain.errors import NotFoundError, StorageError


class MemoryCaseStore:
    """Dictionaries behind a lock; nothing survives the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cases: dict[int, Case] = {}
        self._exhibits: dict[int, Exhibit] = {}
        self._runs: dict[int, ScanRun] = {}
        self._results: dict[int, dict[str, FileResult]] = {}
        self._audit: list[AuditEvent] = []

    def create_case(
        self, number: str, examiner: str, description: str, created_at: datetime
    ) -> Case:
        """Open a new case; the number must be unused."""
        with self._lock:
            if any(c.number == number for c in self._cases.values()):
                raise StorageError(f"case {number!r} already exists")
            case = Case(len(self._cases) + 1, number, examiner, description, created_at)
            self._cases[case.case_id] = case
            return case

    def case_by_number(self, number: str) -> Case:
        """The case with this number."""
        for case in self._cases.values():
            if case.number == number:
                return case
        raise NotFoundError(f"no case {number!r}")

    def case_by_id(self, case_id: int) -> Case:
        """The case with this id."""
        try:
            return self._cases[case_id]
        except KeyError:
            raise NotFoundError(f"no case with id {case_id}") from None

    def all_cases(self) -> list[Case]:
        """Every case, oldest first."""
        return list(self._cases.values())

    def ensure_exhibit(
        self,
        case_id: int,
        reference: str,
        source_path: str,
        kind: ExhibitKind,
        created_at: datetime,
    ) -> Exhibit:
        """The exhibit with this reference in the case, registering it if new."""
        self.case_by_id(case_id)
        with self._lock:
            for exhibit in self._exhibits.values():
                if exhibit.case_id == case_id and exhibit.reference == reference:
                    return exhibit
            exhibit = Exhibit(
                len(self._exhibits) + 1, case_id, reference, source_path, kind, created_at
            )
            self._exhibits[exhibit.exhibit_id] = exhibit
            self._results[exhibit.exhibit_id] = {}
            return exhibit

    def exhibit_by_id(self, exhibit_id: int) -> Exhibit:
        """The exhibit with this id."""
        try:
            return self._exhibits[exhibit_id]
        except KeyError:
            raise NotFoundError(f"no exhibit with id {exhibit_id}") from None

    def exhibits(self, case_id: int) -> list[Exhibit]:
        """The case's exhibits, in the order they were registered."""
        return [e for e in self._exhibits.values() if e.case_id == case_id]

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
        exhibit = self.exhibit_by_id(exhibit_id)
        changes: dict[str, object] = {
            "acquisition_hash": acquisition_hash,
            "acquisition_verified": acquisition_verified,
            "manifest_sha256": manifest_sha256,
            "acquisition_status": acquisition_status,
            "acquisition_segments": (
                tuple(acquisition_segments) if acquisition_segments is not None else None
            ),
        }
        exhibit = replace(exhibit, **{k: v for k, v in changes.items() if v is not None})  # type: ignore[arg-type]
        self._exhibits[exhibit_id] = exhibit
        return exhibit

    def start_run(
        self,
        exhibit_id: int,
        started_at: datetime,
        tool_version: str,
        examiner: str,
        lists: Sequence[ListVersion],
    ) -> ScanRun:
        """Record the start of a scan run."""
        self.exhibit_by_id(exhibit_id)
        with self._lock:
            run = ScanRun(
                len(self._runs) + 1, exhibit_id, started_at, tool_version, examiner, tuple(lists)
            )
            self._runs[run.run_id] = run
            return run

    def finish_run(self, run_id: int, finished_at: datetime) -> ScanRun:
        """Mark a run completed."""
        if run_id not in self._runs:
            raise NotFoundError(f"no scan run with id {run_id}")
        run = replace(self._runs[run_id], finished_at=finished_at, state=RunState.COMPLETED)
        self._runs[run_id] = run
        return run

    def runs(self, exhibit_id: int) -> list[ScanRun]:
        """The exhibit's runs, oldest first."""
        return [r for r in self._runs.values() if r.exhibit_id == exhibit_id]

    def recorded_paths(self, exhibit_id: int) -> set[str]:
        """Paths that already have a committed result for the exhibit."""
        return set(self._results.get(exhibit_id, {}))

    def record_results(self, exhibit_id: int, run_id: int, results: Sequence[FileResult]) -> None:
        """Insert or replace results by path, atomically, and add them to the run's count."""
        self.exhibit_by_id(exhibit_id)
        with self._lock:
            run = self._runs[run_id]
            self._results[exhibit_id].update({r.path: r for r in results})
            self._runs[run_id] = replace(run, files_recorded=run.files_recorded + len(results))

    def results(self, exhibit_id: int) -> Iterator[FileResult]:
        """The exhibit's results ordered by path."""
        stored = self._results.get(exhibit_id, {})
        return iter([stored[path] for path in sorted(stored)])

    def status_counts(self, exhibit_id: int) -> dict[FileStatus, int]:
        """Number of results per status (statuses without results are absent)."""
        return dict(Counter(r.status for r in self._results.get(exhibit_id, {}).values()))

    def append_audit(self, event: AuditEvent) -> AuditEvent:
        """Append one event to the audit log and return it with its id."""
        with self._lock:
            stored = replace(event, event_id=len(self._audit) + 1, detail=dict(event.detail))
            self._audit.append(stored)
            return stored

    def audit_events(self, case_id: int | None = None) -> list[AuditEvent]:
        """Events in the order they were appended; only the case's when `case_id` is given."""
        return [e for e in self._audit if case_id is None or e.case_id == case_id]
