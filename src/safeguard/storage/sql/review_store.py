"""`ReviewStore` on SQLAlchemy Core, for SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.engine import RowMapping

from safeguard.domain.errors import NotFoundError, StorageError
from safeguard.domain.hash_lists import Category
from safeguard.domain.review import (
    Grade,
    GradingScheme,
    Publication,
    PublicationState,
    ReviewItem,
    Suggestion,
)
from safeguard.storage.sql.tables_review import (
    case_review_schemes,
    review_grades,
    review_items,
    review_publications,
    review_reveal_tickets,
)
from safeguard.storage.sql.utc import aware as _aware
from safeguard.storage.sql.utc import required as _required

_INSERT_CHUNK = 1000


def _suggestion_text(suggestion: Suggestion | None) -> str | None:
    if suggestion is None:
        return None
    cat = suggestion.category
    return json.dumps(
        {
            "list_name": suggestion.list_name,
            "entry_id": suggestion.entry_id,
            "distance": suggestion.distance,
            "scheme": cat.scheme,
            "code": cat.code,
            "label": cat.label,
        }
    )


def _suggestion(text: str | None) -> Suggestion | None:
    if not text:
        return None
    data = json.loads(text)
    return Suggestion(
        data["list_name"],
        data["entry_id"],
        int(data["distance"]),
        Category(data["scheme"], data["code"], data["label"]),
    )


def _item_row(item: ReviewItem) -> dict[str, Any]:
    return {
        "exhibit_id": item.exhibit_id,
        "item_no": item.item_no,
        "path": item.path,
        "is_video": item.is_video,
        "md5": item.md5,
        "sha1": item.sha1,
        "sha256": item.sha256,
        "pdq": item.pdq,
        "size": item.size,
        "group_no": item.group_no,
        "group_distance": item.group_distance,
        "suggestion": _suggestion_text(item.suggestion),
    }


def _item(row: RowMapping) -> ReviewItem:
    return ReviewItem(
        exhibit_id=row["exhibit_id"],
        item_no=row["item_no"],
        path=row["path"],
        is_video=bool(row["is_video"]),
        md5=row["md5"],
        sha1=row["sha1"],
        sha256=row["sha256"],
        pdq=row["pdq"],
        size=row["size"],
        group_no=row["group_no"],
        group_distance=row["group_distance"],
        suggestion=_suggestion(row["suggestion"]),
    )


def _grade(row: RowMapping) -> Grade:
    return Grade(
        exhibit_id=row["exhibit_id"],
        item_no=row["item_no"],
        scheme=GradingScheme(row["scheme"]),
        code=row["code"],
        examiner=row["examiner"],
        at=_required(row["at"]),
        source=row["source"],
    )


def _publication(row: RowMapping) -> Publication:
    return Publication(
        publication_id=row["id"],
        case_id=row["case_id"],
        requested_by=row["requested_by"],
        requested_at=_required(row["requested_at"]),
        state=PublicationState(row["state"]),
        decided_by=row["decided_by"],
        decided_at=_aware(row["decided_at"]),
        list_versions=row["list_versions"],
        entries=row["entries"],
    )


class SqlReviewStore:
    """Review items, grades and publications in the shared database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def replace_items(self, exhibit_id: int, items: Sequence[ReviewItem]) -> None:
        """Set the exhibit's review items (numbered by `ReviewItem.item_no`)."""
        rows = [_item_row(i) for i in items]
        with self._engine.begin() as conn:
            conn.execute(delete(review_items).where(review_items.c.exhibit_id == exhibit_id))
            for start in range(0, len(rows), _INSERT_CHUNK):
                conn.execute(insert(review_items), rows[start : start + _INSERT_CHUNK])

    def item_count(self, exhibit_id: int) -> int:
        """How many items the exhibit's review holds."""
        with self._engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(review_items)
                    .where(review_items.c.exhibit_id == exhibit_id)
                ).scalar_one()
            )

    def items(self, exhibit_id: int, offset: int = 0, limit: int | None = None) -> list[ReviewItem]:
        """Items in `item_no` order, one page of them when `limit` is given."""
        query = (
            select(review_items)
            .where(review_items.c.exhibit_id == exhibit_id)
            .order_by(review_items.c.item_no)
            .offset(offset)
        )
        if limit is not None:
            query = query.limit(limit)
        with self._engine.connect() as conn:
            return [_item(r) for r in conn.execute(query).mappings()]

    def item(self, exhibit_id: int, item_no: int) -> ReviewItem:
        """One item (`NotFoundError` when absent)."""
        with self._engine.connect() as conn:
            row = (
                conn.execute(
                    select(review_items)
                    .where(review_items.c.exhibit_id == exhibit_id)
                    .where(review_items.c.item_no == item_no)
                )
                .mappings()
                .first()
            )
        if row is None:
            raise NotFoundError(f"no review item {item_no} in exhibit {exhibit_id}")
        return _item(row)

    def group_members(self, exhibit_id: int, group_no: int) -> list[ReviewItem]:
        """The items of one group, in `item_no` order."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(review_items)
                .where(review_items.c.exhibit_id == exhibit_id)
                .where(review_items.c.group_no == group_no)
                .order_by(review_items.c.item_no)
            ).mappings()
            return [_item(r) for r in rows]

    def add_grades(self, grades: Sequence[Grade]) -> None:
        """Append grades, atomically."""
        if not grades:
            return
        rows = [
            {
                "exhibit_id": g.exhibit_id,
                "item_no": g.item_no,
                "scheme": g.scheme.value,
                "code": g.code,
                "examiner": g.examiner,
                "at": g.at,
                "source": g.source,
            }
            for g in grades
        ]
        with self._engine.begin() as conn:
            conn.execute(insert(review_grades), rows)

    def current_grades(
        self, exhibit_id: int, item_nos: Sequence[int] | None = None
    ) -> dict[int, Grade]:
        """The latest grade of each graded item (of `item_nos` only, when given)."""
        latest = select(func.max(review_grades.c.id)).where(
            review_grades.c.exhibit_id == exhibit_id
        )
        if item_nos is not None:
            if not item_nos:
                return {}
            latest = latest.where(review_grades.c.item_no.in_(list(item_nos)))
        latest = latest.group_by(review_grades.c.item_no)
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(review_grades).where(review_grades.c.id.in_(latest.scalar_subquery()))
            ).mappings()
            return {r["item_no"]: _grade(r) for r in rows}

    def grade_history(self, exhibit_id: int, item_no: int) -> list[Grade]:
        """Every grade the item was given, oldest first."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(review_grades)
                .where(review_grades.c.exhibit_id == exhibit_id)
                .where(review_grades.c.item_no == item_no)
                .order_by(review_grades.c.id)
            ).mappings()
            return [_grade(r) for r in rows]

    def scheme(self, case_id: int) -> GradingScheme | None:
        """The case's grading scheme, None until chosen."""
        with self._engine.connect() as conn:
            value = conn.execute(
                select(case_review_schemes.c.scheme).where(case_review_schemes.c.case_id == case_id)
            ).scalar_one_or_none()
        return None if value is None else GradingScheme(value)

    def set_scheme(self, case_id: int, scheme: GradingScheme) -> None:
        """Choose the case's grading scheme."""
        with self._engine.begin() as conn:
            conn.execute(
                delete(case_review_schemes).where(case_review_schemes.c.case_id == case_id)
            )
            conn.execute(insert(case_review_schemes).values(case_id=case_id, scheme=scheme.value))

    def add_reveal_ticket(
        self, ticket_hash: str, user_id: int, exhibit_id: int, item_no: int, expires_at: datetime
    ) -> None:
        """Store a one-time permission to fetch one item unblurred."""
        with self._engine.begin() as conn:
            conn.execute(
                insert(review_reveal_tickets).values(
                    ticket_hash=ticket_hash,
                    user_id=user_id,
                    exhibit_id=exhibit_id,
                    item_no=item_no,
                    expires_at=expires_at,
                    used=False,
                )
            )

    def take_reveal_ticket(
        self, ticket_hash: str, user_id: int, exhibit_id: int, item_no: int, now: datetime
    ) -> bool:
        """Consume the ticket if it matches and has not expired; True when it did."""
        t = review_reveal_tickets
        with self._engine.begin() as conn:
            taken = conn.execute(
                update(t)
                .where(t.c.ticket_hash == ticket_hash)
                .where(t.c.user_id == user_id)
                .where(t.c.exhibit_id == exhibit_id)
                .where(t.c.item_no == item_no)
                .where(t.c.used.is_(False))
                .where(t.c.expires_at > now)
                .values(used=True)
            )
            return bool(taken.rowcount)

    def add_publication(self, case_id: int, requested_by: str, at: datetime) -> Publication:
        """Record a pending request to publish the case's grades."""
        with self._engine.begin() as conn:
            new_id = conn.execute(
                insert(review_publications).values(
                    case_id=case_id,
                    requested_by=requested_by,
                    requested_at=at,
                    state=PublicationState.PENDING.value,
                    list_versions="",
                    entries=0,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
        return self.publication(int(new_id))

    def publication(self, publication_id: int) -> Publication:
        """One publication (`NotFoundError` when absent)."""
        with self._engine.connect() as conn:
            row = (
                conn.execute(
                    select(review_publications).where(review_publications.c.id == publication_id)
                )
                .mappings()
                .first()
            )
        if row is None:
            raise NotFoundError(f"no publication {publication_id}")
        return _publication(row)

    def publications(self, case_id: int) -> list[Publication]:
        """The case's publications, newest first."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(review_publications)
                .where(review_publications.c.case_id == case_id)
                .order_by(review_publications.c.id.desc())
            ).mappings()
            return [_publication(r) for r in rows]

    def decide_publication(self, publication: Publication) -> Publication:
        """Store the decision fields of a pending publication (`StorageError` if decided)."""
        p = review_publications
        with self._engine.begin() as conn:
            changed = conn.execute(
                update(p)
                .where(p.c.id == publication.publication_id)
                .where(p.c.state == PublicationState.PENDING.value)
                .values(
                    state=publication.state.value,
                    decided_by=publication.decided_by,
                    decided_at=publication.decided_at,
                    list_versions=publication.list_versions,
                    entries=publication.entries,
                )
            )
        if not changed.rowcount:
            raise StorageError(f"publication {publication.publication_id} was already decided")
        return self.publication(publication.publication_id)
