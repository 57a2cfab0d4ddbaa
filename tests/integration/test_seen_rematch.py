"""Seen uploads owing a re-match, on SQLite and PostgreSQL: marked in their write's
transaction against the list store's revision, and re-matched by a new process when the one
that wrote them died first, acting on each hit exactly once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import OperationalError

from safeguard.bootstrap import Services
from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.file_hashes import FileHashes
from safeguard.domain.hash_lists import HashEntry, HashList, ListKind
from safeguard.domain.matches import Match
from safeguard.domain.service import ReportStatus, SeenUpload
from safeguard.services.platform.seen_uploads import SeenUploadWriter
from safeguard.services.platform.upload_matching import UploadMatchingService
from safeguard.storage.service_store import ServiceStore
from safeguard.storage.sql.engine import make_engine, upgrade_schema
from safeguard.storage.sql.hash_list_store import SqlHashListStore
from safeguard.storage.sql.service_store import SqlServiceStore

PDQ = "9" * 16 + "3" * 16 + "a" * 16 + "5" * 16
T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


class Killed(BaseException):
    """The process died: nothing after this runs."""


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_engine(request: pytest.FixtureRequest) -> Engine:
    engine: Engine = request.getfixturevalue(f"{request.param}_engine")
    return engine


def marked_ids(store: ServiceStore) -> list[int]:
    return [upload.upload_id for upload in store.seen_to_rematch(100)]


def seen() -> SeenUpload:
    return SeenUpload(received_at=T0, pdq=PDQ, pdq_quality=90)


def test_rows_matched_before_the_committed_list_revision_are_marked(any_engine: Engine) -> None:
    lists = SqlHashListStore(any_engine)
    store = SqlServiceStore(any_engine)
    lists.import_list(HashList(name="bad", kind=ListKind.KNOWN_BAD), [])
    now = lists.current_revision()
    ids = store.add_seen_many([seen(), seen(), seen()], revisions=[now - 1, now, now])
    assert marked_ids(store) == [ids[0]]
    lists.add_entries("bad", [HashEntry("e1", {HashAlgorithm.PDQ: PDQ})])
    later = store.add_seen_many([seen()], revisions=[now])
    alone = store.add_seen(seen(), now)
    assert store.add_seen(seen(), now + 1) not in marked_ids(store)
    assert marked_ids(store) == [ids[0], *later, alone]


def test_the_schema_matches_the_table_definition(any_engine: Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from safeguard.storage.sql.schema import metadata

    with any_engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d for d in diffs if "service_seen_uploads" in repr(d)] == []
    indexes = {ix["name"] for ix in inspect(any_engine).get_indexes("service_seen_uploads")}
    assert "ix_service_seen_uploads_rematch" in indexes


@pytest.mark.postgres
def test_a_list_change_being_made_marks_every_write_without_waiting(
    postgres_engine: Engine,
) -> None:
    store = SqlServiceStore(postgres_engine)
    with postgres_engine.connect() as change:
        # A list change has bumped the revision and not committed yet: it may commit before
        # the rows do, and its retroactive job not see them.
        change.execute(text("UPDATE hash_list_state SET revision = revision + 1 WHERE id = 1"))
        ids = store.add_seen_many([seen(), seen()], revisions=[0, 0])
        ids.append(store.add_seen(seen(), 0))
        change.rollback()
    assert marked_ids(store) == ids


@pytest.mark.postgres
def test_no_list_change_commits_between_the_marks_and_the_write(postgres_engine: Engine) -> None:
    from safeguard.storage.sql import seen_rematch

    with postgres_engine.begin() as write:
        seen_rematch.mark_stale(write, [], [])  # reads the revision as a write does
        with postgres_engine.connect() as change:
            change.execute(text("SET lock_timeout = '200ms'"))
            with pytest.raises(OperationalError, match="lock timeout"):
                change.execute(text("UPDATE hash_list_state SET revision = revision + 1"))
            change.rollback()
    with postgres_engine.begin() as change:  # once the write committed, the change goes on
        change.execute(text("SET LOCAL lock_timeout = '200ms'"))
        change.execute(text("UPDATE hash_list_state SET revision = revision + 1"))


def test_the_migration_adds_and_removes_the_mark(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    from safeguard.storage.sql.engine import MIGRATIONS_DIR

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))

    def migrate(step: str, target: str) -> None:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            getattr(command, step)(config, target)

    def columns() -> set[str]:
        return {c["name"] for c in inspect(engine).get_columns("service_seen_uploads")}

    try:
        upgrade_schema(engine)
        store = SqlServiceStore(engine)
        ids = store.add_seen_many([seen()], revisions=[-1])
        migrate("downgrade", "service_0004")
        assert "rematch_revision" not in columns()
        assert store.count_seen() == 1
        migrate("upgrade", "service_0005")
        assert "rematch_revision" in columns()
        assert marked_ids(store) == []  # the mark went with the column
        store.add_seen_many([seen()], revisions=[-1])
        assert len(marked_ids(store)) == 1
        assert ids
    finally:
        engine.dispose()


# --- a process that dies between writing and re-matching ---------------------------------


class DyingStore(SqlServiceStore):
    """Dies when the re-matched rows' marks are to be cleared (their actions ran)."""

    def mark_rematched(self, upload_ids: Sequence[int]) -> None:
        raise Killed


def dying_writer(services: Services, dies: str) -> SeenUploadWriter:
    """The service's writer, built to die at `dies`."""
    keeper = services.index_keeper

    def match(hashes: FileHashes) -> Sequence[Match]:
        with keeper.reading() as matcher:
            return matcher.match_file_hashes(hashes)

    def current_revision() -> int:
        if dies == "before re-matching":
            raise Killed
        return services.hash_list_store.current_revision()

    store = DyingStore(services.engine) if dies == "before clearing" else services.service_store
    return SeenUploadWriter(store, current_revision, keeper, match, services.service_actions)


@pytest.mark.parametrize("dies", ["before re-matching", "before clearing"])
def test_a_new_process_rematches_what_a_dead_one_wrote_and_acts_once(
    process: Callable[[], Services], dies: str
) -> None:
    first = process()
    first.list_administration.create_list(
        HashList(name="bad", kind=ListKind.KNOWN_BAD, action="report"), "t"
    )
    first.index_keeper.ensure_fresh()
    writer = dying_writer(first, dies)
    matching = UploadMatchingService(
        lambda data, name: None,  # type: ignore[arg-type,return-value]
        first.index_keeper,
        first.service_actions,
        first.service_store,
        seen_writer=writer,
    )
    writer.start()  # rows wait in the buffer, as in a running server
    try:
        answer = matching.match_hashes_at_once({"pdq": PDQ, "sha256": "ab" * 32}, 90)
        assert answer is not None
        assert not answer.matches
        # The hash becomes known while the row waits; its job finds nothing to re-match.
        change = first.list_administration.add_entries(
            "bad", [HashEntry("e1", {HashAlgorithm.PDQ: PDQ})], "t"
        )
        assert change.retroactive == ()
        with pytest.raises(Killed):
            writer.flush()  # the rows are written, then the process dies
    finally:
        writer.stop()  # only ends the thread: nothing waits any more
    [row] = first.service_store.seen_to_rematch(10)
    reports = first.service_store.list_reports(ReportStatus.PENDING)
    assert len(reports) == (1 if dies == "before clearing" else 0)
    first.engine.dispose()

    restarted = process()
    restarted.retroactive_jobs.run_pending()  # as its background worker does on each pass
    [report] = restarted.service_store.list_reports(ReportStatus.PENDING)
    assert report.upload_id == row.upload_id
    assert report.retroactive
    assert restarted.service_store.seen_to_rematch(10) == []
    again = process()
    again.retroactive_jobs.run_pending()
    assert len(again.service_store.list_reports(ReportStatus.PENDING)) == 1


# --- a list change between a one-at-a-time match and its write -----------------------------

SHA256 = "5e" * 32


class ChangeBeforeWrite(SqlServiceStore):
    """Commits a list change once, after an upload was matched and before its row is written."""

    def __init__(self, engine: Engine, change: Callable[[], None]) -> None:
        super().__init__(engine)
        self._change: Callable[[], None] | None = change

    def _first(self) -> None:
        change, self._change = self._change, None
        if change is not None:
            change()

    def add_seen(self, upload: SeenUpload, revision: int | None) -> int:
        self._first()
        return super().add_seen(upload, revision)

    def add_seen_many(
        self, uploads: Sequence[SeenUpload], revisions: Sequence[int] | None
    ) -> list[int]:
        self._first()
        return super().add_seen_many(uploads, revisions)


@pytest.mark.parametrize("path", ["upload", "hashes", "batch"])
def test_a_list_change_between_a_match_and_its_write_is_acted_on_once(
    process: Callable[[], Services], path: str
) -> None:
    services = process()
    admin = services.list_administration
    for name in ("bad", "later"):
        admin.create_list(HashList(name=name, kind=ListKind.KNOWN_BAD, action="report"), "t")
    admin.add_entries("bad", [HashEntry("known", {HashAlgorithm.SHA256: SHA256})], "t")
    keeper = services.index_keeper
    matched_at = keeper.ensure_fresh()

    def change() -> None:
        # Revision R+1 makes the upload's PDQ hash known; its job runs before the row exists.
        added = admin.add_entries("later", [HashEntry("late", {HashAlgorithm.PDQ: PDQ})], "t")
        assert added.retroactive == ()
        assert services.hash_list_store.current_revision() > matched_at

    def hasher(data: bytes, name: str) -> FileHashes:
        return FileHashes(name, len(data), {HashAlgorithm.SHA256: SHA256}, PDQ, 90)

    matching = UploadMatchingService(
        hasher,
        keeper,
        services.service_actions,
        ChangeBeforeWrite(services.engine, change),
        clock=lambda: T0,
    )
    hashes = {"sha256": SHA256, "pdq": PDQ}
    if path == "upload":
        answer = matching.match_upload(b"benign test picture")
    elif path == "hashes":
        answer = matching.match_hashes(hashes, 90)
    else:
        [item] = matching.match_hashes_many([(hashes, 90, None)])
        assert not isinstance(item, Exception)
        answer = item
    # Answered from revision R: the known entry only, acted on (its hit claimed) when written.
    assert [m.entry_id for m in answer.matches] == ["known"]
    assert answer.outcome.report_id is not None
    assert [u.upload_id for u in services.service_store.seen_to_rematch(10)] == [answer.upload_id]

    services.retroactive_jobs.run_pending()  # as the server's worker does on each pass
    reports = services.service_store.list_reports(ReportStatus.PENDING)
    assert [(r.upload_id, r.retroactive, [m.entry_id for m in r.matches]) for r in reports] == [
        (answer.upload_id, False, ["known"]),
        (answer.upload_id, True, ["late"]),  # one hit, acted on once; "known" not again
    ]
    assert reports[0].report_id == answer.outcome.report_id
    assert services.service_store.seen_to_rematch(10) == []
    services.retroactive_jobs.run_pending()
    assert len(services.service_store.list_reports(ReportStatus.PENDING)) == 2
