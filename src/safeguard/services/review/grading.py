"""The examiner's grid: pages of items with their grades, grading by key, reveals, schemes.

Every grade is appended with its examiner and time (earlier grades stay in the history);
every reveal of an unblurred picture is audited before the picture can be fetched, with a
one-time ticket that only the revealing user can use, for that item only, within a minute.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from safeguard.domain.cases import Case, Exhibit
from safeguard.domain.errors import InputError, NotFoundError
from safeguard.domain.hash_lists import Category
from safeguard.domain.people import User
from safeguard.domain.review import (
    SCHEME_OPTIONS,
    Grade,
    GradeOption,
    GradingScheme,
    ReviewItem,
    option_for_key,
)
from safeguard.services.examiner.cases import CaseService
from safeguard.services.review.exhibit_content import ExhibitContent
from safeguard.services.review.thumbnails import (
    ViewSettings,
    blurred_thumbnail,
    revealed_picture,
)
from safeguard.storage.review_store import ReviewStore

REVEAL_TICKET_LIFETIME = timedelta(seconds=60)
MAX_GRADE_BATCH = 10_000
DEFAULT_SCHEME = GradingScheme.UK


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _ticket_hash(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class GridPage:
    """One page of an exhibit's review grid."""

    items: Sequence[ReviewItem]
    grades: dict[int, Grade]
    page: int
    pages: int
    total: int
    scheme: GradingScheme

    @property
    def options(self) -> tuple[GradeOption, ...]:
        """The keys of the case's scheme."""
        return SCHEME_OPTIONS[self.scheme]


class ReviewService:
    """Grid pages, grading, grade history, reveals and per-case schemes."""

    def __init__(
        self,
        cases: CaseService,
        store: ReviewStore,
        content: ExhibitContent,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._cases = cases
        self._store = store
        self._content = content
        self._clock = clock

    @property
    def store(self) -> ReviewStore:
        """The review store (for services that build on grades)."""
        return self._store

    def exhibit_of(self, case: Case, exhibit_id: int) -> Exhibit:
        """The case's exhibit with this id (`NotFoundError` for another case's)."""
        exhibit = self._cases.store.exhibit_by_id(exhibit_id)
        if exhibit.case_id != case.case_id:
            raise NotFoundError(f"case {case.number} has no exhibit {exhibit_id}")
        return exhibit

    def scheme(self, case: Case) -> GradingScheme:
        """The case's grading scheme (UK until one is chosen)."""
        return self._store.scheme(case.case_id) or DEFAULT_SCHEME

    def set_scheme(self, case: Case, scheme: GradingScheme, actor: str) -> None:
        """Choose the case's scheme (audited)."""
        self._store.set_scheme(case.case_id, scheme)
        self._cases.audit(
            actor, "review.scheme-set", case_id=case.case_id, detail={"scheme": scheme}
        )

    def page(self, case: Case, exhibit: Exhibit, page: int, per_page: int) -> GridPage:
        """Items of one page (1-based, clamped) with their current grades."""
        total = self._store.item_count(exhibit.exhibit_id)
        pages = max(1, -(-total // per_page))
        page = min(max(1, page), pages)
        items = self._store.items(exhibit.exhibit_id, (page - 1) * per_page, per_page)
        grades = self._store.current_grades(exhibit.exhibit_id, [i.item_no for i in items])
        return GridPage(items, grades, page, pages, total, self.scheme(case))

    def grade(
        self,
        case: Case,
        exhibit: Exhibit,
        item_nos: Sequence[int],
        key: str,
        examiner: User,
        source: str = "grid",
        groups: Sequence[int] = (),
    ) -> list[Grade]:
        """Grade items with a key of the case's scheme; earlier grades stay in the history.

        Every member of each group in `groups` is graded too (one key grades a whole group,
        across pages).

        Raises:
            InputError: the key grades nothing in the scheme, or no or too many items.
            NotFoundError: an item is not in the exhibit's review.
        """
        scheme = self.scheme(case)
        option = option_for_key(scheme, key)
        if option is None:
            raise InputError(f"key {key!r} is not a grade in the {scheme} scheme")
        chosen = set(item_nos)
        for group_no in groups:
            chosen.update(
                m.item_no for m in self._store.group_members(exhibit.exhibit_id, group_no)
            )
        wanted = sorted(chosen)
        if not wanted or len(wanted) > MAX_GRADE_BATCH:
            raise InputError(f"grade between 1 and {MAX_GRADE_BATCH} items at a time")
        total = self._store.item_count(exhibit.exhibit_id)
        if wanted[0] < 1 or wanted[-1] > total:
            raise NotFoundError("no such review item")
        now = self._clock()
        grades = [
            Grade(exhibit.exhibit_id, n, scheme, option.code, examiner.username, now, source)
            for n in wanted
        ]
        self._store.add_grades(grades)
        self._cases.audit(
            examiner.actor,
            "review.graded",
            case_id=case.case_id,
            exhibit_id=exhibit.exhibit_id,
            detail={"items": str(len(grades)), "code": option.code, "first": str(wanted[0])},
        )
        return grades

    def group_of(self, exhibit: Exhibit, item_no: int) -> list[ReviewItem]:
        """The item's group (the item alone when it is in none)."""
        item = self._store.item(exhibit.exhibit_id, item_no)
        if item.group_no is None:
            return [item]
        return self._store.group_members(exhibit.exhibit_id, item.group_no)

    def history(self, exhibit: Exhibit, item_no: int) -> list[Grade]:
        """Every grade of the item, oldest first."""
        return self._store.grade_history(exhibit.exhibit_id, item_no)

    def thumbnail(self, exhibit: Exhibit, item_no: int, view: ViewSettings) -> bytes:
        """The item's blurred thumbnail (never unblurred: see `ViewSettings`).

        Raises:
            NotFoundError: no such item, or it cannot be read or decoded.
        """
        item = self._store.item(exhibit.exhibit_id, item_no)
        return blurred_thumbnail(self._content.read(exhibit, item.path), item.is_video, view)

    def reveal(self, case: Case, exhibit: Exhibit, item_no: int, user: User) -> str:
        """Audit a reveal of one item and return a one-time ticket to fetch it unblurred."""
        item = self._store.item(exhibit.exhibit_id, item_no)
        ticket = secrets.token_urlsafe(24)
        self._store.add_reveal_ticket(
            _ticket_hash(ticket),
            user.user_id,
            exhibit.exhibit_id,
            item_no,
            self._clock() + REVEAL_TICKET_LIFETIME,
        )
        self._cases.audit(
            user.actor,
            "review.revealed",
            case_id=case.case_id,
            exhibit_id=exhibit.exhibit_id,
            detail={"item": str(item_no), "path": item.path},
        )
        return ticket

    def revealed(self, exhibit: Exhibit, item_no: int, user: User, ticket: str) -> bytes:
        """The unblurred picture, once per ticket from `reveal`.

        Raises:
            NotFoundError: no valid ticket for this user and item (used, expired, another's).
        """
        if not ticket or not self._store.take_reveal_ticket(
            _ticket_hash(ticket), user.user_id, exhibit.exhibit_id, item_no, self._clock()
        ):
            raise NotFoundError("no reveal was asked for")
        item = self._store.item(exhibit.exhibit_id, item_no)
        return revealed_picture(self._content.read(exhibit, item.path), item.is_video)

    def graded_paths(self, exhibit_id: int) -> dict[str, tuple[str, Category]]:
        """Path -> (label, category) of each graded item's current grade (for reports)."""
        grades = self._store.current_grades(exhibit_id)
        if not grades:
            return {}
        return {
            item.path: (grades[item.item_no].option.label, grades[item.item_no].option.category)
            for item in self._store.items(exhibit_id)
            if item.item_no in grades
        }

    def grade_counts(self, case: Case) -> Counter[str]:
        """Items per current grade label over every exhibit of the case."""
        counts: Counter[str] = Counter()
        for exhibit in self._cases.store.exhibits(case.case_id):
            for grade in self._store.current_grades(exhibit.exhibit_id).values():
                counts[grade.option.label] += 1
        return counts
