"""Opening cases, finding them, summarising them, and the audit trail around them."""

from __future__ import annotations

import getpass
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from safeguard.domain.cases import AuditEvent, Case, Exhibit, FileStatus, ScanRun
from safeguard.domain.errors import AccessDeniedError, InputError, NotFoundError
from safeguard.storage.case_store import CaseStore

Clock = Callable[[], datetime]

CASE_CLOSED = "case.closed"
"""The audit action that seals a case."""


def utc_now() -> datetime:
    """The current time in UTC (the default clock)."""
    return datetime.now(UTC)


def current_actor() -> str:
    """The operating-system user, used as the actor when nobody is named."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@dataclass(frozen=True, slots=True)
class ExhibitSummary:
    """An exhibit with its scan runs and result counts per status."""

    exhibit: Exhibit
    runs: tuple[ScanRun, ...]
    counts: Mapping[FileStatus, int]

    @property
    def complete(self) -> bool:
        """True when the latest run finished (a killed scan leaves it running)."""
        return bool(self.runs) and self.runs[-1].finished_at is not None


@dataclass(frozen=True, slots=True)
class CaseSummary:
    """A case with every exhibit's summary."""

    case: Case
    exhibits: tuple[ExhibitSummary, ...]


class CaseService:
    """Cases and the audit log.

    Every change goes through here so it lands in the append-only audit log with its actor.
    """

    def __init__(self, store: CaseStore, clock: Clock = utc_now) -> None:
        self._store = store
        self._clock = clock

    @property
    def store(self) -> CaseStore:
        """The case store (for services that build on cases)."""
        return self._store

    def new_case(self, number: str, examiner: str, description: str = "") -> Case:
        """Open a case.

        Raises:
            InputError: the number or examiner is empty.
            StorageError: a case with this number exists.
        """
        number, examiner = number.strip(), examiner.strip()
        if not number or not examiner:
            raise InputError("a case needs a number and an examiner")
        case = self._store.create_case(number, examiner, description.strip(), self._clock())
        self.audit(examiner, "case.created", case_id=case.case_id, detail={"number": number})
        return case

    def find(self, reference: str) -> Case:
        """The case with this number, or with this numeric id when no number matches.

        Raises:
            NotFoundError: neither matches.
        """
        try:
            return self._store.case_by_number(reference)
        except NotFoundError:
            if reference.isdigit():
                return self._store.case_by_id(int(reference))
            raise

    def summary(self, reference: str) -> CaseSummary:
        """The case with its exhibits, runs and counts."""
        case = self.find(reference)
        exhibits = tuple(
            ExhibitSummary(
                exhibit,
                tuple(self._store.runs(exhibit.exhibit_id)),
                self._store.status_counts(exhibit.exhibit_id),
            )
            for exhibit in self._store.exhibits(case.case_id)
        )
        return CaseSummary(case, exhibits)

    def exhibit(self, case: Case, reference: str) -> Exhibit:
        """The case's exhibit with this reference.

        Raises:
            NotFoundError: no such exhibit in the case.
        """
        for exhibit in self._store.exhibits(case.case_id):
            if exhibit.reference == reference:
                return exhibit
        raise NotFoundError(f"case {case.number} has no exhibit {reference!r}")

    def audit(
        self,
        actor: str,
        action: str,
        *,
        case_id: int | None = None,
        exhibit_id: int | None = None,
        detail: Mapping[str, str] | None = None,
    ) -> AuditEvent:
        """Append an event to the audit log (keep `detail` free of hashes and secrets)."""
        event = AuditEvent(
            at=self._clock(),
            actor=actor or current_actor(),
            action=action,
            case_id=case_id,
            exhibit_id=exhibit_id,
            detail=dict(detail or {}),
        )
        return self._store.append_audit(event)

    def closure(self, case: Case) -> AuditEvent | None:
        """The event that closed (sealed) the case, or None while it is open.

        Closing is recorded only in the append-only audit log, so a closed case cannot be
        reopened by editing a row, and the record of who sealed it and why cannot change.
        """
        for event in self._store.audit_events(case.case_id):
            if event.action == CASE_CLOSED:
                return event
        return None

    def require_open(self, case: Case) -> None:
        """Refuse work that would change a closed case.

        Raises:
            AccessDeniedError: the case is closed.
        """
        closed = self.closure(case)
        if closed is not None:
            raise AccessDeniedError(
                f"case {case.number} was closed (sealed) on "
                f"{closed.at:%Y-%m-%d %H:%M} UTC by {closed.actor}; a closed case takes no "
                "new scans"
            )

    def close(self, reference: str, actor: str, reason: str) -> AuditEvent:
        """Close (seal) a case: no scan may add to it afterwards. Recorded in the audit log.

        Raises:
            NotFoundError: no such case.
            InputError: no actor or no reason given.
            AccessDeniedError: the case is closed already.
        """
        actor, reason = actor.strip(), reason.strip()
        if not actor or not reason:
            raise InputError("closing a case needs who closes it and why")
        case = self.find(reference)
        self.require_open(case)
        summary = self.summary(reference)
        incomplete = [s.exhibit.reference for s in summary.exhibits if not s.complete]
        detail = {
            "number": case.number,
            "reason": reason,
            "exhibits": str(len(summary.exhibits)),
        }
        if incomplete:
            detail["incomplete_exhibits"] = ", ".join(incomplete)
        return self.audit(actor, CASE_CLOSED, case_id=case.case_id, detail=detail)

    def cases(self) -> list[tuple[Case, int, AuditEvent | None]]:
        """Every case with its number of exhibits and its closing event (None when open)."""
        return [
            (case, len(self._store.exhibits(case.case_id)), self.closure(case))
            for case in self._store.all_cases()
        ]

    def audit_log(self, case: Case) -> list[AuditEvent]:
        """The case's audit events, oldest first."""
        return self._store.audit_events(case.case_id)
