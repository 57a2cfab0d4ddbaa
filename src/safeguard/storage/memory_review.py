"""An in-memory `ReviewStore` for unit tests; same contract as the SQL one."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from safeguard.domain.errors import NotFoundError, StorageError
from safeguard.domain.review import (
    Grade,
    GradingScheme,
    Publication,
    PublicationState,
    ReviewItem,
)


class MemoryReviewStore:
    """Dictionaries and lists behind a lock; nothing survives the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[int, dict[int, ReviewItem]] = {}
        self._grades: list[Grade] = []
        self._schemes: dict[int, GradingScheme] = {}
        self._tickets: dict[str, tuple[int, int, int, datetime, bool]] = {}
        self._publications: dict[int, Publication] = {}

    def replace_items(self, exhibit_id: int, items: Sequence[ReviewItem]) -> None:
        """Set the exhibit's review items (numbered by `ReviewItem.item_no`)."""
        self._items[exhibit_id] = {i.item_no: i for i in items}

    def item_count(self, exhibit_id: int) -> int:
        """How many items the exhibit's review holds."""
        return len(self._items.get(exhibit_id, {}))

    def items(self, exhibit_id: int, offset: int = 0, limit: int | None = None) -> list[ReviewItem]:
        """Items in `item_no` order, one page of them when `limit` is given."""
        ordered = sorted(self._items.get(exhibit_id, {}).values(), key=lambda i: i.item_no)
        return ordered[offset : None if limit is None else offset + limit]

    def item(self, exhibit_id: int, item_no: int) -> ReviewItem:
        """One item (`NotFoundError` when absent)."""
        try:
            return self._items[exhibit_id][item_no]
        except KeyError:
            raise NotFoundError(f"no review item {item_no} in exhibit {exhibit_id}") from None

    def group_members(self, exhibit_id: int, group_no: int) -> list[ReviewItem]:
        """The items of one group, in `item_no` order."""
        return [i for i in self.items(exhibit_id) if i.group_no == group_no]

    def add_grades(self, grades: Sequence[Grade]) -> None:
        """Append grades, atomically."""
        with self._lock:
            self._grades.extend(grades)

    def current_grades(
        self, exhibit_id: int, item_nos: Sequence[int] | None = None
    ) -> dict[int, Grade]:
        """The latest grade of each graded item (of `item_nos` only, when given)."""
        wanted = None if item_nos is None else set(item_nos)
        latest: dict[int, Grade] = {}
        for grade in self._grades:
            if grade.exhibit_id == exhibit_id and (wanted is None or grade.item_no in wanted):
                latest[grade.item_no] = grade
        return latest

    def grade_history(self, exhibit_id: int, item_no: int) -> list[Grade]:
        """Every grade the item was given, oldest first."""
        return [g for g in self._grades if (g.exhibit_id, g.item_no) == (exhibit_id, item_no)]

    def scheme(self, case_id: int) -> GradingScheme | None:
        """The case's grading scheme, None until chosen."""
        return self._schemes.get(case_id)

    def set_scheme(self, case_id: int, scheme: GradingScheme) -> None:
        """Choose the case's grading scheme."""
        self._schemes[case_id] = scheme

    def add_reveal_ticket(
        self, ticket_hash: str, user_id: int, exhibit_id: int, item_no: int, expires_at: datetime
    ) -> None:
        """Store a one-time permission to fetch one item unblurred."""
        self._tickets[ticket_hash] = (user_id, exhibit_id, item_no, expires_at, False)

    def take_reveal_ticket(
        self, ticket_hash: str, user_id: int, exhibit_id: int, item_no: int, now: datetime
    ) -> bool:
        """Consume the ticket if it matches and has not expired; True when it did."""
        with self._lock:
            found = self._tickets.get(ticket_hash)
            if found is None:
                return False
            owner, exhibit, item, expires, used = found
            if used or (owner, exhibit, item) != (user_id, exhibit_id, item_no) or now >= expires:
                return False
            self._tickets[ticket_hash] = (owner, exhibit, item, expires, True)
            return True

    def add_publication(self, case_id: int, requested_by: str, at: datetime) -> Publication:
        """Record a pending request to publish the case's grades."""
        with self._lock:
            publication = Publication(len(self._publications) + 1, case_id, requested_by, at)
            self._publications[publication.publication_id] = publication
            return publication

    def publication(self, publication_id: int) -> Publication:
        """One publication (`NotFoundError` when absent)."""
        try:
            return self._publications[publication_id]
        except KeyError:
            raise NotFoundError(f"no publication {publication_id}") from None

    def publications(self, case_id: int) -> list[Publication]:
        """The case's publications, newest first."""
        found = [p for p in self._publications.values() if p.case_id == case_id]
        return sorted(found, key=lambda p: -p.publication_id)

    def decide_publication(self, publication: Publication) -> Publication:
        """Store the decision fields of a pending publication (`StorageError` if decided)."""
        with self._lock:
            current = self.publication(publication.publication_id)
            if current.state is not PublicationState.PENDING:
                raise StorageError(f"publication {publication.publication_id} was already decided")
            stored = replace(
                current,
                state=publication.state,
                decided_by=publication.decided_by,
                decided_at=publication.decided_at,
                list_versions=publication.list_versions,
                entries=publication.entries,
            )
            self._publications[stored.publication_id] = stored
            return stored
