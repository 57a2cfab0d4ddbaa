"""The port for review items, grades (with history), schemes, reveal tickets, publications."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from safeguard.domain.review import Grade, GradingScheme, Publication, ReviewItem


class ReviewStore(Protocol):
    """Where examiner review lives.

    Items are replaced per exhibit by `replace_items` (a new preparation); grades are only
    ever appended, so the history of each item is kept; `current_grades` gives the latest
    grade of each item. Reveal tickets are one-time: `take_reveal_ticket` consumes one.
    """

    def replace_items(self, exhibit_id: int, items: Sequence[ReviewItem]) -> None:
        """Set the exhibit's review items (numbered by `ReviewItem.item_no`)."""
        ...

    def item_count(self, exhibit_id: int) -> int:
        """How many items the exhibit's review holds."""
        ...

    def items(self, exhibit_id: int, offset: int = 0, limit: int | None = None) -> list[ReviewItem]:
        """Items in `item_no` order, one page of them when `limit` is given."""
        ...

    def item(self, exhibit_id: int, item_no: int) -> ReviewItem:
        """One item (`NotFoundError` when absent)."""
        ...

    def group_members(self, exhibit_id: int, group_no: int) -> list[ReviewItem]:
        """The items of one group, in `item_no` order."""
        ...

    def add_grades(self, grades: Sequence[Grade]) -> None:
        """Append grades, atomically."""
        ...

    def current_grades(
        self, exhibit_id: int, item_nos: Sequence[int] | None = None
    ) -> dict[int, Grade]:
        """The latest grade of each graded item (of `item_nos` only, when given)."""
        ...

    def grade_history(self, exhibit_id: int, item_no: int) -> list[Grade]:
        """Every grade the item was given, oldest first."""
        ...

    def scheme(self, case_id: int) -> GradingScheme | None:
        """The case's grading scheme, None until chosen."""
        ...

    def set_scheme(self, case_id: int, scheme: GradingScheme) -> None:
        """Choose the case's grading scheme."""
        ...

    def add_reveal_ticket(
        self, ticket_hash: str, user_id: int, exhibit_id: int, item_no: int, expires_at: datetime
    ) -> None:
        """Store a one-time permission to fetch one item unblurred."""
        ...

    def take_reveal_ticket(
        self, ticket_hash: str, user_id: int, exhibit_id: int, item_no: int, now: datetime
    ) -> bool:
        """Consume the ticket if it matches and has not expired; True when it did."""
        ...

    def add_publication(self, case_id: int, requested_by: str, at: datetime) -> Publication:
        """Record a pending request to publish the case's grades."""
        ...

    def publication(self, publication_id: int) -> Publication:
        """One publication (`NotFoundError` when absent)."""
        ...

    def publications(self, case_id: int) -> list[Publication]:
        """The case's publications, newest first."""
        ...

    def decide_publication(self, publication: Publication) -> Publication:
        """Store the decision fields of a pending publication (`StorageError` if decided)."""
        ...
