"""`CaseStore` on SQLAlchemy Core, for SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError

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
    match_as_record,
    match_from_record,
)
from safeguard.domain.errors import NotFoundError, StorageError
from safeguard.domain.hash_lists import Category, ListKind
from safeguard.storage.sql.tables_cases import (
    audit_events,
    cases,
    exhibits,
    file_results,
    scan_runs,
)
from safeguard.storage.sql.utc import aware as _aware
from safeguard.storage.sql.utc import required as _required

_RESULTS_PAGE = 2000


def _case(row: RowMapping) -> Case:
    return Case(
        row["id"], row["number"], row["examiner"], row["description"], _required(row["created_at"])
    )


def _exhibit(row: RowMapping) -> Exhibit:
    return Exhibit(
        exhibit_id=row["id"],
        case_id=row["case_id"],
        reference=row["reference"],
        source_path=row["source_path"],
        kind=ExhibitKind(row["kind"]),
        created_at=_required(row["created_at"]),
        acquisition_hash=row["acquisition_hash"],
        acquisition_verified=row["acquisition_verified"],
        manifest_sha256=row["manifest_sha256"],
        acquisition_status=row["acquisition_status"],
        acquisition_segments=tuple(json.loads(row["acquisition_segments"] or "[]")),
    )


def _run(row: RowMapping) -> ScanRun:
    lists = tuple(
        ListVersion(item["name"], ListKind(item["kind"]), item["version"])
        for item in json.loads(row["lists"])
    )
    return ScanRun(
        run_id=row["id"],
        exhibit_id=row["exhibit_id"],
        started_at=_required(row["started_at"]),
        tool_version=row["tool_version"],
        examiner=row["examiner"],
        lists=lists,
        finished_at=_aware(row["finished_at"]),
        state=RunState(row["state"]),
        files_recorded=row["files_recorded"],
    )


def _result_row(exhibit_id: int, run_id: int, result: FileResult) -> dict[str, Any]:
    return {
        "exhibit_id": exhibit_id,
        "run_id": run_id,
        "path": result.path,
        "status": result.status.value,
        "size": result.size,
        "md5": result.md5,
        "sha1": result.sha1,
        "sha256": result.sha256,
        "pdq": result.pdq,
        "pdq_quality": result.pdq_quality,
        "media_type": result.media_type,
        "modified": result.modified,
        "accessed": result.accessed,
        "created": result.created,
        "changed": result.changed,
        "deleted": result.deleted,
        "error": result.error,
        "category_scheme": result.category.scheme,
        "category_code": result.category.code,
        "category_label": result.category.label,
        "matches": json.dumps([match_as_record(m) for m in result.matches]),
        "frame_seconds": result.frame_seconds,
        "video_frames": result.video_frames,
    }


def _result(row: RowMapping) -> FileResult:
    return FileResult(
        path=row["path"],
        status=FileStatus(row["status"]),
        size=row["size"],
        md5=row["md5"],
        sha1=row["sha1"],
        sha256=row["sha256"],
        pdq=row["pdq"],
        pdq_quality=row["pdq_quality"],
        media_type=row["media_type"],
        modified=_aware(row["modified"]),
        accessed=_aware(row["accessed"]),
        created=_aware(row["created"]),
        changed=_aware(row["changed"]),
        deleted=bool(row["deleted"]),
        error=row["error"],
        category=Category(row["category_scheme"], row["category_code"], row["category_label"]),
        matches=tuple(match_from_record(m) for m in json.loads(row["matches"])),
        frame_seconds=row["frame_seconds"],
        video_frames=row["video_frames"],
    )


def _audit(row: RowMapping) -> AuditEvent:
    detail: Mapping[str, str] = json.loads(row["detail"])
    return AuditEvent(
        at=_required(row["at"]),
        actor=row["actor"],
        action=row["action"],
        case_id=row["case_id"],
        exhibit_id=row["exhibit_id"],
        detail=detail,
        event_id=row["id"],
    )


class SqlCaseStore:
    """Cases and results in the shared database (schema from the ``cases`` migration branch).

    The audit table refuses UPDATE, DELETE (and on PostgreSQL TRUNCATE) through triggers
    installed by the migration, so even a direct SQL session cannot rewrite history.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _one(self, conn: Connection, query: Any, what: str) -> RowMapping:
        row = conn.execute(query).mappings().first()
        if row is None:
            raise NotFoundError(what)
        return row

    def create_case(
        self, number: str, examiner: str, description: str, created_at: datetime
    ) -> Case:
        """Open a new case; the number must be unused."""
        try:
            with self._engine.begin() as conn:
                new_id = conn.execute(
                    insert(cases).values(
                        number=number,
                        examiner=examiner,
                        description=description,
                        created_at=created_at,
                    )
                ).inserted_primary_key
        except IntegrityError as exc:
            raise StorageError(f"case {number!r} already exists") from exc
        assert new_id is not None
        return Case(int(new_id[0]), number, examiner, description, created_at)

    def case_by_number(self, number: str) -> Case:
        """The case with this number."""
        with self._engine.connect() as conn:
            query = select(cases).where(cases.c.number == number)
            return _case(self._one(conn, query, f"no case {number!r}"))

    def case_by_id(self, case_id: int) -> Case:
        """The case with this id."""
        with self._engine.connect() as conn:
            query = select(cases).where(cases.c.id == case_id)
            return _case(self._one(conn, query, f"no case with id {case_id}"))

    def all_cases(self) -> list[Case]:
        """Every case, oldest first."""
        with self._engine.connect() as conn:
            return [_case(r) for r in conn.execute(select(cases).order_by(cases.c.id)).mappings()]

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
        query = select(exhibits).where(
            exhibits.c.case_id == case_id, exhibits.c.reference == reference
        )
        with self._engine.begin() as conn:
            row = conn.execute(query).mappings().first()
            if row is None:
                conn.execute(
                    insert(exhibits).values(
                        case_id=case_id,
                        reference=reference,
                        source_path=source_path,
                        kind=kind.value,
                        created_at=created_at,
                    )
                )
                row = self._one(conn, query, "exhibit vanished")
        return _exhibit(row)

    def exhibit_by_id(self, exhibit_id: int) -> Exhibit:
        """The exhibit with this id."""
        with self._engine.connect() as conn:
            query = select(exhibits).where(exhibits.c.id == exhibit_id)
            return _exhibit(self._one(conn, query, f"no exhibit with id {exhibit_id}"))

    def exhibits(self, case_id: int) -> list[Exhibit]:
        """The case's exhibits, in the order they were registered."""
        query = select(exhibits).where(exhibits.c.case_id == case_id).order_by(exhibits.c.id)
        with self._engine.connect() as conn:
            return [_exhibit(r) for r in conn.execute(query).mappings()]

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
        changes = {
            k: v
            for k, v in {
                "acquisition_hash": acquisition_hash,
                "acquisition_verified": acquisition_verified,
                "manifest_sha256": manifest_sha256,
                "acquisition_status": acquisition_status,
                "acquisition_segments": (
                    json.dumps(list(acquisition_segments))
                    if acquisition_segments is not None
                    else None
                ),
            }.items()
            if v is not None
        }
        if changes:
            with self._engine.begin() as conn:
                conn.execute(update(exhibits).where(exhibits.c.id == exhibit_id).values(**changes))
        return self.exhibit_by_id(exhibit_id)

    def start_run(
        self,
        exhibit_id: int,
        started_at: datetime,
        tool_version: str,
        examiner: str,
        lists: Sequence[ListVersion],
    ) -> ScanRun:
        """Record the start of a scan run."""
        listed = json.dumps(
            [{"name": x.name, "kind": x.kind.value, "version": x.version} for x in lists]
        )
        with self._engine.begin() as conn:
            new_id = conn.execute(
                insert(scan_runs).values(
                    exhibit_id=exhibit_id,
                    started_at=started_at,
                    tool_version=tool_version,
                    examiner=examiner,
                    lists=listed,
                    state=RunState.RUNNING.value,
                    files_recorded=0,
                )
            ).inserted_primary_key
        assert new_id is not None
        return ScanRun(int(new_id[0]), exhibit_id, started_at, tool_version, examiner, tuple(lists))

    def finish_run(self, run_id: int, finished_at: datetime) -> ScanRun:
        """Mark a run completed."""
        with self._engine.begin() as conn:
            conn.execute(
                update(scan_runs)
                .where(scan_runs.c.id == run_id)
                .values(finished_at=finished_at, state=RunState.COMPLETED.value)
            )
            query = select(scan_runs).where(scan_runs.c.id == run_id)
            return _run(self._one(conn, query, f"no scan run with id {run_id}"))

    def runs(self, exhibit_id: int) -> list[ScanRun]:
        """The exhibit's runs, oldest first."""
        query = (
            select(scan_runs).where(scan_runs.c.exhibit_id == exhibit_id).order_by(scan_runs.c.id)
        )
        with self._engine.connect() as conn:
            return [_run(r) for r in conn.execute(query).mappings()]

    def recorded_paths(self, exhibit_id: int) -> set[str]:
        """Paths that already have a committed result for the exhibit."""
        query = select(file_results.c.path).where(file_results.c.exhibit_id == exhibit_id)
        with self._engine.connect() as conn:
            return set(conn.execute(query).scalars())

    def record_results(self, exhibit_id: int, run_id: int, results: Sequence[FileResult]) -> None:
        """Insert or replace results by path, atomically, and add them to the run's count."""
        if not results:
            return
        rows = [_result_row(exhibit_id, run_id, r) for r in results]
        dialect = self._engine.dialect.name
        stmt: Any
        if dialect == "postgresql":
            stmt = postgresql.insert(file_results)
        elif dialect == "sqlite":
            stmt = sqlite.insert(file_results)
        else:  # pragma: no cover - only SQLite and PostgreSQL are supported
            raise StorageError(f"unsupported database dialect {dialect}")
        replaced = {
            name: stmt.excluded[name] for name in rows[0] if name not in ("exhibit_id", "path")
        }
        stmt = stmt.on_conflict_do_update(
            index_elements=[file_results.c.exhibit_id, file_results.c.path], set_=replaced
        )
        with self._engine.begin() as conn:
            conn.execute(stmt, rows)
            conn.execute(
                update(scan_runs)
                .where(scan_runs.c.id == run_id)
                .values(files_recorded=scan_runs.c.files_recorded + len(rows))
            )

    def results(self, exhibit_id: int) -> Iterator[FileResult]:
        """The exhibit's results ordered by path (byte order, the same on both dialects)."""
        path = file_results.c.path
        ordered = path.collate("C") if self._engine.dialect.name == "postgresql" else path
        after: str | None = None
        # Keyset pages keep memory flat for exhibits with millions of files.
        while True:
            query = select(file_results).where(file_results.c.exhibit_id == exhibit_id)
            if after is not None:
                query = query.where(ordered > after)
            query = query.order_by(ordered).limit(_RESULTS_PAGE)
            with self._engine.connect() as conn:
                page = [_result(r) for r in conn.execute(query).mappings()]
            yield from page
            if len(page) < _RESULTS_PAGE:
                return
            after = page[-1].path

    def status_counts(self, exhibit_id: int) -> dict[FileStatus, int]:
        """Number of results per status (statuses without results are absent)."""
        query = (
            select(file_results.c.status, func.count())
            .where(file_results.c.exhibit_id == exhibit_id)
            .group_by(file_results.c.status)
        )
        with self._engine.connect() as conn:
            return {FileStatus(status): int(n) for status, n in conn.execute(query)}

    def append_audit(self, event: AuditEvent) -> AuditEvent:
        """Append one event to the audit log and return it with its id."""
        with self._engine.begin() as conn:
            new_id = conn.execute(
                insert(audit_events).values(
                    at=event.at,
                    actor=event.actor,
                    action=event.action,
                    case_id=event.case_id,
                    exhibit_id=event.exhibit_id,
                    detail=json.dumps(dict(event.detail), sort_keys=True),
                )
            ).inserted_primary_key
        assert new_id is not None
        return AuditEvent(
            event.at,
            event.actor,
            event.action,
            event.case_id,
            event.exhibit_id,
            dict(event.detail),
            int(new_id[0]),
        )

    def audit_events(self, case_id: int | None = None) -> list[AuditEvent]:
        """Events in the order they were appended; only the case's when `case_id` is given."""
        query = select(audit_events).order_by(audit_events.c.id)
        if case_id is not None:
            query = query.where(audit_events.c.case_id == case_id)
        with self._engine.connect() as conn:
            return [_audit(r) for r in conn.execute(query).mappings()]
