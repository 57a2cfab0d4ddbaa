"""Publishing graded items to local hash lists, after a second examiner's confirmation.

Known-bad grades go to `GRADED_LIST` (known-bad, with the category, the examiner and the
case as provenance); "not indecent" grades go to `NOT_INDECENT_LIST` (known-good);
"ignorable" grades go nowhere. Each publication makes a new version of each list holding
everything published before plus the case's current grades (a changed grade replaces the
entry). The next scan and the matching service read the same list store, so they
recognise the items at once; ``safeguard lists export local-examiner-graded --format vics``
gives the VICS hash set for the national database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime

from safeguard.domain.cases import Case
from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.errors import AccessDeniedError, InputError, NotFoundError
from safeguard.domain.hash_lists import HashEntry, HashList, ListKind, Provenance
from safeguard.domain.people import User
from safeguard.domain.review import (
    Grade,
    Outcome,
    Publication,
    PublicationState,
    ReviewItem,
    list_kind_of,
)
from safeguard.services.examiner.cases import CaseService
from safeguard.storage.hash_list_store import HashListStore
from safeguard.storage.review_store import ReviewStore

GRADED_LIST = "local-examiner-graded"
NOT_INDECENT_LIST = "local-examiner-not-indecent"
LIST_SOURCE = "Safeguard examiner review"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def graded_items(
    store: ReviewStore, cases: CaseService, case: Case
) -> Iterator[tuple[ReviewItem, Grade]]:
    """Every graded item of the case with its current grade."""
    for exhibit in cases.store.exhibits(case.case_id):
        grades = store.current_grades(exhibit.exhibit_id)
        if not grades:
            continue
        for item in store.items(exhibit.exhibit_id):
            grade = grades.get(item.item_no)
            if grade is not None:
                yield item, grade


def entry_for(
    item: ReviewItem, grade: Grade, case: Case, confirmed_by: str | None
) -> HashEntry | None:
    """The hash-list entry of a graded item; None without digests or for ignorable grades."""
    option = grade.option
    if list_kind_of(option.outcome) is None:
        return None
    digests = {
        algorithm: value
        for algorithm, value in (
            (HashAlgorithm.MD5, item.md5),
            (HashAlgorithm.SHA1, item.sha1),
            (HashAlgorithm.SHA256, item.sha256),
            (HashAlgorithm.PDQ, item.pdq),
        )
        if value
    }
    if not digests:
        return None
    notes = f"graded {option.code} by {grade.examiner} on {grade.at.date().isoformat()}"
    if confirmed_by:
        notes += f"; confirmed by {confirmed_by}"
    return HashEntry(
        entry_id=item.sha256 or item.sha1 or item.md5 or f"{case.number}:{item.path}",
        digests=digests,
        category=option.category
        if option.outcome is Outcome.KNOWN_BAD
        else replace(option.category),
        provenance=Provenance(
            source_record_id=f"case {case.number}",
            first_seen=grade.at.date(),
            notes=notes,
        ),
        size=item.size,
    )


class PublicationService:
    """Requests, four-eyes confirmation and publication of a case's grades."""

    def __init__(
        self,
        cases: CaseService,
        store: ReviewStore,
        lists: HashListStore,
        on_published: Callable[[], None] = lambda: None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._cases = cases
        self._store = store
        self._lists = lists
        self._on_published = on_published
        self._clock = clock

    def request(self, case: Case, examiner: User) -> Publication:
        """Ask for the case's grades to be published (a second examiner must confirm).

        Raises:
            InputError: nothing is graded yet.
        """
        if next(graded_items(self._store, self._cases, case), None) is None:
            raise InputError("nothing in this case is graded yet")
        publication = self._store.add_publication(case.case_id, examiner.username, self._clock())
        self._cases.audit(
            examiner.actor,
            "review.publication-requested",
            case_id=case.case_id,
            detail={"publication": str(publication.publication_id)},
        )
        return publication

    def publications(self, case: Case) -> list[Publication]:
        """The case's publications, newest first."""
        return self._store.publications(case.case_id)

    def _pending(self, case: Case, publication_id: int, examiner: User) -> Publication:
        publication = self._store.publication(publication_id)
        if publication.case_id != case.case_id:
            raise NotFoundError(f"no publication {publication_id} in case {case.number}")
        if publication.state is not PublicationState.PENDING:
            raise InputError(f"publication {publication_id} is already {publication.state}")
        if publication.requested_by == examiner.username:
            raise AccessDeniedError("a second examiner must confirm: not the one who asked")
        return publication

    def reject(self, case: Case, publication_id: int, examiner: User) -> Publication:
        """Turn a request down (a different examiner than the requester)."""
        pending = self._pending(case, publication_id, examiner)
        decided = self._store.decide_publication(
            replace(
                pending,
                state=PublicationState.REJECTED,
                decided_by=examiner.username,
                decided_at=self._clock(),
            )
        )
        self._cases.audit(
            examiner.actor,
            "review.publication-rejected",
            case_id=case.case_id,
            detail={"publication": str(publication_id)},
        )
        return decided

    def confirm(self, case: Case, publication_id: int, examiner: User) -> Publication:
        """Confirm a request by another examiner and publish new list versions.

        Raises:
            AccessDeniedError: the confirming examiner is the one who asked.
            InputError: the request was already decided.
        """
        pending = self._pending(case, publication_id, examiner)
        fresh: dict[ListKind, list[HashEntry]] = {ListKind.KNOWN_BAD: [], ListKind.KNOWN_GOOD: []}
        for item, grade in graded_items(self._store, self._cases, case):
            entry = entry_for(item, grade, case, examiner.username)
            kind = list_kind_of(grade.option.outcome)
            if entry is not None and kind is not None:
                fresh[kind].append(entry)
        versions = []
        total = 0
        for name, kind in (
            (GRADED_LIST, ListKind.KNOWN_BAD),
            (NOT_INDECENT_LIST, ListKind.KNOWN_GOOD),
        ):
            stored = self._publish_list(name, kind, fresh[kind])
            versions.append(f"{stored.name}={stored.version}")
            total += len(fresh[kind])
        decided = self._store.decide_publication(
            replace(
                pending,
                state=PublicationState.PUBLISHED,
                decided_by=examiner.username,
                decided_at=self._clock(),
                list_versions=", ".join(versions),
                entries=total,
            )
        )
        self._cases.audit(
            examiner.actor,
            "review.published",
            case_id=case.case_id,
            detail={
                "publication": str(publication_id),
                "requested_by": pending.requested_by,
                "lists": decided.list_versions,
                "entries": str(total),
            },
        )
        self._on_published()
        return decided

    def _publish_list(self, name: str, kind: ListKind, fresh: list[HashEntry]) -> HashList:
        try:
            current = self._lists.get_list(name)
        except NotFoundError:
            current = None
        previous = list(self._lists.iter_entries(name)) if current is not None else []
        number = int(current.version) if current is not None and current.version.isdigit() else 0
        merged = {e.entry_id: e for e in previous}
        merged.update({e.entry_id: e for e in fresh})
        hash_list = HashList(
            name=name,
            kind=kind,
            source=LIST_SOURCE,
            version=str(number + 1),
            pdq_threshold=current.pdq_threshold if current is not None else None,
            action=current.action if current is not None else None,
        )
        return self._lists.import_list(hash_list, merged.values())
