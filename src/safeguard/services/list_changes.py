"""List management for the service: every change audited, re-matched, and served at once.

Each write goes to the shared `HashListStore` (which bumps its revision, so other worker
processes catch up), is recorded in the audit log, refreshes this process's index, and,
when entries were added, re-matches past uploads (`RetroactiveMatcher`).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from safeguard.domain.cases import AuditEvent
from safeguard.domain.errors import ConfigurationError, NotFoundError
from safeguard.domain.hash_lists import HashEntry, HashList
from safeguard.domain.matches import check_pdq_threshold
from safeguard.domain.service import WebhookTarget, action_field, parse_actions
from safeguard.services.retroactive import RetroactiveHit, RetroactiveMatcher
from safeguard.services.upload_matching import IndexKeeper
from safeguard.storage.hash_list_store import HashListStore
from safeguard.storage.service_store import ServiceStore

ListFileImporter = Callable[[Path, HashList, str | None], HashList]
"""Imports a list file: ``(path, list settings, format name or None to detect) -> stored list``."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ListChange:
    """The result of a change that added entries.

    Attributes:
        hash_list: the list after the change.
        written: entries written (added or replaced) or removed.
        retroactive: past uploads that now match, with what their actions did.
    """

    hash_list: HashList
    written: int
    retroactive: tuple[RetroactiveHit, ...] = ()


class ListAdministration:
    """Create, import, edit and configure lists on behalf of an authenticated actor."""

    def __init__(
        self,
        lists: HashListStore,
        store: ServiceStore,
        keeper: IndexKeeper,
        retroactive: RetroactiveMatcher,
        importer: ListFileImporter | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._lists = lists
        self._store = store
        self._keeper = keeper
        self._retroactive = retroactive
        self._importer = importer
        self._clock = clock

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
        """The webhook URL of a list, if set (the secret is never shown again)."""
        target = self._store.get_webhook_target(name)
        return None if target is None else target.url

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

    def import_file(
        self, name: str, path: Path, actor: str, list_format: str | None = None
    ) -> ListChange:
        """Replace a list's entries with those of a list file, then re-match past uploads.

        Raises:
            NotFoundError: no such list.
            ConfigurationError: no importer is configured.
            ListFormatError: the file cannot be read.
        """
        if self._importer is None:
            raise ConfigurationError("list file import is not available in this service")
        current = self._lists.get_list(name)
        stored = self._importer(path, current, list_format)
        self._audit(actor, "list.imported", name, entries=str(stored.entry_count))
        self._keeper.ensure_fresh(force=True)
        hits = self._retroactive.rematch(
            stored, self._lists.iter_entries(name), self._keeper.lists()
        )
        return ListChange(stored, stored.entry_count, tuple(hits))

    def add_entries(self, name: str, entries: Iterable[HashEntry], actor: str) -> ListChange:
        """Add (or replace by id) entries, then re-match past uploads against them.

        Raises:
            NotFoundError: no such list.
            InvalidDigestError: an entry's digest is malformed.
        """
        added = list(entries)
        written = self._lists.add_entries(name, added)
        self._audit(actor, "list.entries_added", name, count=str(written))
        self._keeper.ensure_fresh(force=True)
        hash_list = self._lists.get_list(name)
        hits = self._retroactive.rematch(hash_list, added, self._keeper.lists())
        return ListChange(hash_list, written, tuple(hits))

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
            "webhook": "set" if webhook_url else None,
        }
        detail = {k: str(v) for k, v in changed.items() if v is not None}
        self._audit(actor, "list.updated", name, **detail)
        self._keeper.ensure_fresh(force=True)
        return hash_list, secret

    def _set_webhook(self, name: str, url: str | None) -> str | None:
        if not url:
            return None
        if not url.startswith(("http://", "https://")):
            raise ConfigurationError("the webhook URL must start with http:// or https://")
        secret = secrets.token_urlsafe(32)
        self._store.set_webhook_target(WebhookTarget(name, url, secret))
        return secret

    def _audit(self, _actor: str, _verb: str, _list_name: str, **detail: str) -> None:
        self._store.add_audit(
            AuditEvent(
                at=self._clock(), actor=_actor, action=_verb, detail={"list": _list_name, **detail}
            )
        )
