"""List management for the service: every change audited, re-matched, and served at once.

Each write goes to the shared `HashListStore` (which bumps its revision, so other worker
processes catch up), is recorded in the audit log, refreshes this process's index, and,
when entries were added, re-matches past uploads through a retroactive job
(`RetroactiveJobs`): recorded before the change, so a crash cannot lose it, and run here
for as many batches as the caller asks, the rest by a worker.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from safeguard.domain.cases import AuditEvent
from safeguard.domain.errors import ConfigurationError, NotFoundError
from safeguard.domain.hash_lists import HashEntry, HashList
from safeguard.domain.matches import check_pdq_threshold
from safeguard.domain.retroactive_jobs import RetroactiveJob
from safeguard.domain.service import (
    WebhookDelivery,
    WebhookTarget,
    action_field,
    parse_actions,
)
from safeguard.services.hash_lists.management import ImportCounts, ImportOutcome, ListService
from safeguard.services.platform.index_keeper import IndexKeeper
from safeguard.services.platform.retroactive import RetroactiveHit
from safeguard.services.platform.retroactive_jobs import RetroactiveJobs
from safeguard.services.platform.webhook_urls import WebhookPolicy, redact
from safeguard.storage.hash_list_store import HashListStore
from safeguard.storage.service_store import ServiceStore

ListFileImporter = Callable[[Path, HashList, str | None], ImportOutcome]
"""Imports a list file: ``(path, list settings, format name or None to detect) -> outcome``."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ListChange:
    """The result of a change that added entries.

    Attributes:
        hash_list: the list after the change.
        written: entries written (added or replaced) or removed.
        retroactive: past uploads found to match by the batches run during the change,
            with what their actions did (the job's later batches act on the rest).
        counts: for a file import, where every record of the file went (read, stored,
            skipped, ignored, merged, with reasons).
        retroactive_job: the job re-matching past uploads, as it stood when the call
            returned; None when the change added nothing.
    """

    hash_list: HashList
    written: int
    retroactive: tuple[RetroactiveHit, ...] = ()
    counts: ImportCounts | None = None
    retroactive_job: RetroactiveJob | None = None


class ListAdministration:
    """Create, import, edit and configure lists on behalf of an authenticated actor."""

    def __init__(
        self,
        lists: HashListStore,
        store: ServiceStore,
        keeper: IndexKeeper,
        retroactive: RetroactiveJobs,
        importer: ListFileImporter | None = None,
        clock: Callable[[], datetime] = _utcnow,
        list_service: ListService | None = None,
        webhook_policy: WebhookPolicy | None = None,
    ) -> None:
        self._list_service = list_service
        self._lists = lists
        self._store = store
        self._keeper = keeper
        self._retroactive = retroactive
        self._importer = importer
        self._clock = clock
        self._webhook_policy = webhook_policy or WebhookPolicy()

    def all_lists(self) -> list[HashList]:
        """Every list, by name."""
        return self._lists.all_lists()

    def get_list(self, name: str) -> HashList:
        """One list.

        Raises:
            NotFoundError: no such list.
        """
        return self._lists.get_list(name)

    def webhook_url(self, name: str) -> str | None:
        """The webhook URL of a list, if set, never with credentials or its secret."""
        target = self._store.get_webhook_target(name)
        return None if target is None else redact([target.url])[0]

    def create_list(
        self, hash_list: HashList, actor: str, webhook_url: str | None = None
    ) -> tuple[HashList, str | None]:
        """Create an empty list.

        Returns:
            The stored list, and the webhook signing secret when a webhook URL was given
            (shown once).

        Raises:
            ConfigurationError: the list exists, its action names are unknown or its
                threshold is beyond `MAX_PDQ_THRESHOLD`.
        """
        parse_actions(hash_list.action)
        if hash_list.pdq_threshold is not None:
            check_pdq_threshold(hash_list.pdq_threshold)
        if webhook_url:
            self._webhook_policy.normalise(webhook_url)  # refused before anything is made
        try:
            self._lists.get_list(hash_list.name)
        except NotFoundError:
            pass
        else:
            raise ConfigurationError(f"a list named {hash_list.name!r} exists already")
        stored = self._lists.import_list(hash_list, [])
        secret = self._set_webhook(stored.name, webhook_url)
        self._audit(actor, "list.created", stored.name, action=stored.action or "")
        self._keeper.ensure_fresh(force=True)
        return stored, secret

    @property
    def retroactive_jobs(self) -> RetroactiveJobs:
        """The retroactive jobs of list changes (status, resume, cancel)."""
        return self._retroactive

    def import_file(
        self,
        name: str,
        path: Path,
        actor: str,
        list_format: str | None = None,
        retroactive_batches: int | None = None,
    ) -> ListChange:
        """Replace a list's entries with those of a list file, then re-match past uploads.

        `retroactive_batches`: batches of past uploads re-matched before returning (None:
        until the job ends or is held; 0: all left to a worker).

        Raises:
            NotFoundError: no such list.
            ConfigurationError: no importer is configured.
            ListFormatError: the file cannot be read.
        """
        if self._importer is None:
            raise ConfigurationError("list file import is not available in this service")
        current = self._lists.get_list(name)
        job = self._retroactive.prepare(name, None, actor)
        try:
            outcome = self._importer(path, current, list_format)
        except BaseException:
            self._retroactive.abandon(job, "the import failed; the list is unchanged")
            raise
        stored = outcome.hash_list
        self._audit(actor, "list.imported", name, entries=str(stored.entry_count))
        self._keeper.ensure_fresh(force=True)
        job, hits = self._retroactive.start(job, name, retroactive_batches)
        return ListChange(stored, stored.entry_count, tuple(hits), outcome.counts, job)

    def import_list_file(
        self, path: Path, actor: str, retroactive_batches: int | None = None, **options: Any
    ) -> tuple[ImportOutcome, ListChange]:
        """Import a list file (creating or replacing the list), audited and re-matched.

        The import is `ListService.import_file`'s; then the change is audited, served, and
        past uploads are re-matched against the list's entries. This is the CLI's ``lists import``: the same audit and retroactive matching as the API.

        Args:
            path: the list file.
            actor: who imports it (for the audit log).
            retroactive_batches: as for `import_file`.
            options: `ListService.import_file`'s keyword arguments (name, kind, format_name,
                source, version, threshold, action, lenient, on_progress).

        Raises:
            ConfigurationError: no list service is configured, or an option is impossible.
            ListFormatError: the file cannot be read (the store is unchanged).
        """
        service = self._require_list_service()
        job = self._retroactive.prepare(str(options.get("name") or ""), None, actor)
        try:
            outcome = service.import_file(path, **options)
        except BaseException:
            self._retroactive.abandon(job, "the import failed; the store is unchanged")
            raise
        stored = outcome.hash_list
        self._audit(
            actor,
            "list.imported",
            stored.name,
            entries=str(stored.entry_count),
            format=outcome.format_name,
            file=path.name,
        )
        self._keeper.ensure_fresh(force=True)
        hits: list[RetroactiveHit] = []
        if outcome.in_place:  # a list queried in place (NSRL) is known-good only
            job = self._retroactive.abandon(job, "a list queried in place is never matched")
        else:
            job, hits = self._retroactive.start(job, stored.name, retroactive_batches)
        change = ListChange(stored, stored.entry_count, tuple(hits), outcome.counts, job)
        return outcome, change

    def remove_list(self, name: str, actor: str) -> None:
        """Delete a list and its entries (a reference list's file is left alone), audited.

        Raises:
            NotFoundError: no such list.
        """
        self._lists.remove_list(name)
        self._audit(actor, "list.removed", name)
        self._keeper.ensure_fresh(force=True)

    def _require_list_service(self) -> ListService:
        if self._list_service is None:
            raise ConfigurationError("list file import is not available here")
        return self._list_service

    def add_entries(
        self,
        name: str,
        entries: Iterable[HashEntry],
        actor: str,
        retroactive_batches: int | None = None,
    ) -> ListChange:
        """Add (or replace by id) entries, then re-match past uploads against them.

        `retroactive_batches`: batches of past uploads re-matched before returning (None:
        until the job ends or is held; 0: all left to a worker).

        Raises:
            NotFoundError: no such list.
            InvalidDigestError: an entry's digest is malformed.
        """
        added = list(entries)
        self._lists.get_list(name)
        job = None
        if added:
            job = self._retroactive.prepare(name, [e.entry_id for e in added], actor)
        try:
            written = self._lists.add_entries(name, added)
        except BaseException:
            if job is not None:
                self._retroactive.abandon(job, "the change failed; the list is unchanged")
            raise
        self._audit(actor, "list.entries_added", name, count=str(written))
        self._keeper.ensure_fresh(force=True)
        hash_list = self._lists.get_list(name)
        hits: list[RetroactiveHit] = []
        if job is not None:
            job, hits = self._retroactive.start(job, name, retroactive_batches)
        return ListChange(hash_list, written, tuple(hits), retroactive_job=job)

    def remove_entries(self, name: str, entry_ids: Sequence[str], actor: str) -> ListChange:
        """Remove entries by id (unknown ids are ignored).

        Raises:
            NotFoundError: no such list.
        """
        removed = self._lists.remove_entries(name, entry_ids)
        self._audit(actor, "list.entries_removed", name, count=str(removed))
        self._keeper.ensure_fresh(force=True)
        return ListChange(self._lists.get_list(name), removed)

    def update_list(
        self,
        name: str,
        actor: str,
        *,
        enabled: bool | None = None,
        pdq_threshold: int | None = None,
        actions: str | None = None,
        webhook_url: str | None = None,
    ) -> tuple[HashList, str | None]:
        """Change a list's settings; None leaves a setting alone, ``actions=""`` clears them.

        Returns:
            The list, and a new webhook secret when `webhook_url` was given (shown once).

        Raises:
            NotFoundError: no such list.
            ConfigurationError: unknown action names or a threshold outside 0..80
                (`MAX_PDQ_THRESHOLD`).
        """
        if pdq_threshold is not None:
            check_pdq_threshold(pdq_threshold)
        new_actions = None
        if actions is not None:
            new_actions = action_field(actions) or ""
        self._lists.get_list(name)
        hash_list = self._lists.update_list(
            name, enabled=enabled, pdq_threshold=pdq_threshold, action=new_actions
        )
        secret = self._set_webhook(name, webhook_url)
        changed = {
            "enabled": enabled,
            "pdq_threshold": pdq_threshold,
            "action": new_actions,
            "webhook": None if webhook_url is None else ("set" if webhook_url else "removed"),
        }
        detail = {k: str(v) for k, v in changed.items() if v is not None}
        self._audit(actor, "list.updated", name, **detail)
        self._keeper.ensure_fresh(force=True)
        return hash_list, secret

    def entries(self, name: str) -> Iterator[HashEntry]:
        """The list's entries, streamed (read-only).

        Raises:
            NotFoundError: no such list.
        """
        self._lists.get_list(name)
        return self._lists.iter_entries(name)

    def _set_webhook(self, name: str, url: str | None) -> str | None:
        if url is None:
            return None
        if not url.strip():  # an empty URL removes the webhook
            self._store.remove_webhook_target(name)
            return None
        normalised = self._webhook_policy.normalise(url)
        secret = secrets.token_urlsafe(32)
        self._store.set_webhook_target(WebhookTarget(name, normalised, secret))
        return secret

    def audit_delivery_cancelled(self, delivery: WebhookDelivery, actor: str) -> None:
        """Record in the audit log that a person cancelled a webhook delivery."""
        self._audit(
            actor, "webhook.cancelled", delivery.list_name, delivery=str(delivery.delivery_id)
        )

    def _audit(self, _actor: str, _verb: str, _list_name: str, **detail: str) -> None:
        self._store.add_audit(
            AuditEvent(
                at=self._clock(), actor=_actor, action=_verb, detail={"list": _list_name, **detail}
            )
        )
