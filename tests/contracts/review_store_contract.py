"""Conformance suite every `ReviewStore` passes (memory fake, SQLite, PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from safeguard.domain.errors import NotFoundError, StorageError
from safeguard.domain.hash_lists import PROJECT_VIC, category_for
from safeguard.domain.review import (
    Grade,
    GradingScheme,
    PublicationState,
    ReviewItem,
    Suggestion,
)
from safeguard.storage.review_store import ReviewStore

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def items(exhibit_id: int, count: int) -> list[ReviewItem]:
    return [
        ReviewItem(
            exhibit_id,
            n,
            f"dir/{n:03d}.jpg",
            n == count,
            "a" * 32,
            None,
            f"{n:064x}",
            "f" * 64,
            size=n,
            group_no=1 if n <= 2 else None,
            group_distance=(n - 1) * 3 if n <= 2 else None,
            suggestion=Suggestion("vic", "e1", 12, category_for(PROJECT_VIC, 1))
            if n == 1
            else None,
        )
        for n in range(1, count + 1)
    ]


class ReviewStoreContract:
    """Subclasses provide `store` and `ids` (a case id and two exhibit ids of it)."""

    @pytest.fixture
    def store(self) -> ReviewStore:
        raise NotImplementedError

    @pytest.fixture
    def ids(self) -> tuple[int, int, int]:
        raise NotImplementedError

    def test_items_pages_groups(self, store: ReviewStore, ids: tuple[int, int, int]) -> None:
        _case, one, two = ids
        store.replace_items(one, items(one, 5))
        store.replace_items(two, items(two, 2))
        assert store.item_count(one) == 5
        assert [i.item_no for i in store.items(one, 2, 2)] == [3, 4]
        assert store.items(one) == items(one, 5)
        assert store.item(one, 1).suggestion == Suggestion(
            "vic", "e1", 12, category_for(PROJECT_VIC, 1)
        )
        assert [i.item_no for i in store.group_members(one, 1)] == [1, 2]
        store.replace_items(one, items(one, 3))
        assert store.item_count(one) == 3
        with pytest.raises(NotFoundError):
            store.item(one, 4)

    def test_grades_keep_history(self, store: ReviewStore, ids: tuple[int, int, int]) -> None:
        _case, one, _two = ids
        store.replace_items(one, items(one, 3))
        store.add_grades([Grade(one, n, GradingScheme.UK, "A", "exa", T0) for n in (1, 2)])
        store.add_grades([Grade(one, 2, GradingScheme.UK, "C", "exb", T0 + timedelta(1))])
        current = store.current_grades(one)
        assert {n: g.code for n, g in current.items()} == {1: "A", 2: "C"}
        assert set(store.current_grades(one, [2, 3])) == {2}
        assert store.current_grades(one, []) == {}
        assert [(g.code, g.examiner) for g in store.grade_history(one, 2)] == [
            ("A", "exa"),
            ("C", "exb"),
        ]

    def test_schemes_tickets_publications(
        self, store: ReviewStore, ids: tuple[int, int, int]
    ) -> None:
        case, one, _two = ids
        assert store.scheme(case) is None
        store.set_scheme(case, GradingScheme.PROJECT_VIC)
        store.set_scheme(case, GradingScheme.UK)
        assert store.scheme(case) is GradingScheme.UK
        store.add_reveal_ticket("h" * 64, 7, one, 3, T0 + timedelta(seconds=60))
        assert not store.take_reveal_ticket("h" * 64, 8, one, 3, T0)
        assert not store.take_reveal_ticket("h" * 64, 7, one, 4, T0)
        assert not store.take_reveal_ticket("h" * 64, 7, one, 3, T0 + timedelta(seconds=61))
        assert store.take_reveal_ticket("h" * 64, 7, one, 3, T0)
        assert not store.take_reveal_ticket("h" * 64, 7, one, 3, T0)
        asked = store.add_publication(case, "exa", T0)
        assert asked.state is PublicationState.PENDING
        from dataclasses import replace

        done = store.decide_publication(
            replace(
                asked,
                state=PublicationState.PUBLISHED,
                decided_by="exb",
                decided_at=T0,
                list_versions="l=1",
                entries=3,
            )
        )
        assert (done.decided_by, done.entries, done.list_versions) == ("exb", 3, "l=1")
        assert store.publication(asked.publication_id) == done
        with pytest.raises(StorageError):
            store.decide_publication(done)
        later = store.add_publication(case, "exb", T0)
        assert [p.publication_id for p in store.publications(case)] == [
            later.publication_id,
            asked.publication_id,
        ]
        with pytest.raises(NotFoundError):
            store.publication(999)
