"""Preparing an exhibit for review.

Which items a person must see, their near-duplicate groups and the list entries they resemble.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

from safeguard.domain.cases import Case, Exhibit, FileResult, FileStatus
from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.review import ReviewItem, Suggestion
from safeguard.services.examiner.cases import CaseService
from safeguard.services.review.exhibit_content import ExhibitContent
from safeguard.services.review.grouping import (
    DEFAULT_GROUP_THRESHOLD,
    dihedral_pdq,
    near_duplicate_groups,
)
from safeguard.storage.review_store import ReviewStore


def needs_review(result: FileResult) -> bool:
    """Unknown pictures and videos, and files known only through a perceptual match."""
    if result.status in (FileStatus.UNKNOWN_IMAGE, FileStatus.UNKNOWN_VIDEO):
        return True
    if result.status is not FileStatus.KNOWN_BAD or not result.matches:
        return False
    return all(m.algorithm is HashAlgorithm.PDQ for m in result.matches)


def _suggestion(result: FileResult) -> Suggestion | None:
    perceptual = [m for m in result.matches if m.algorithm is HashAlgorithm.PDQ]
    if not perceptual:
        return None
    best = min(perceptual, key=lambda m: m.distance)
    return Suggestion(best.list_name, best.entry_id, best.distance, best.category)


class ReviewPreparation:
    """Builds an exhibit's review items from its scan results (a re-run updates them)."""

    def __init__(
        self,
        cases: CaseService,
        store: ReviewStore,
        content: ExhibitContent,
        group_threshold: int = DEFAULT_GROUP_THRESHOLD,
        dihedral: Callable[[bytes], list[str] | None] = dihedral_pdq,
    ) -> None:
        self._cases = cases
        self._store = store
        self._content = content
        self._threshold = group_threshold
        self._dihedral = dihedral

    def prepare(self, case: Case, exhibit: Exhibit, actor: str) -> int:
        """List the exhibit's items for review and group near-duplicates; returns the count.

        The exhibit is read (read-only) once more to hash every picture's rotations and
        flips, so that a rotated copy joins its original's group.
        """
        found = [r for r in self._cases.store.results(exhibit.exhibit_id) if needs_review(r)]
        # A path keeps its number across preparations, so grades stay with their items; an
        # item no longer found stays listed (numbers stay 1..N and its grades keep a subject).
        kept = {i.path: i for i in self._store.items(exhibit.exhibit_id)}
        earlier = {path: item.item_no for path, item in kept.items()}
        found_paths = {r.path for r in found}
        next_no = max(earlier.values(), default=0)
        numbered: list[tuple[int, FileResult]] = []
        for result in found:
            number = earlier.get(result.path)
            if number is None:
                next_no += 1
                number = next_no
            numbered.append((number, result))
        numbered.sort(key=lambda pair: pair[0])
        results = dict(numbered)
        pictures = {
            n: r for n, r in results.items() if r.pdq and r.status != FileStatus.UNKNOWN_VIDEO
        }
        variants = self._variants(exhibit, pictures)
        groups = near_duplicate_groups(
            {n: r.pdq for n, r in pictures.items() if r.pdq}, variants, self._threshold
        )
        items = [
            ReviewItem(
                exhibit_id=exhibit.exhibit_id,
                item_no=n,
                path=r.path,
                is_video=r.status is FileStatus.UNKNOWN_VIDEO or r.media_type.startswith("video/"),
                md5=r.md5,
                sha1=r.sha1,
                sha256=r.sha256,
                pdq=r.pdq,
                size=r.size,
                group_no=groups[n][0] if n in groups else None,
                group_distance=groups[n][1] if n in groups else None,
                suggestion=_suggestion(r),
            )
            for n, r in results.items()
        ]
        items.extend(
            replace(i, group_no=None, group_distance=None)
            for p, i in kept.items()
            if p not in found_paths
        )
        items.sort(key=lambda i: i.item_no)
        self._store.replace_items(exhibit.exhibit_id, items)
        self._cases.audit(
            actor,
            "review.prepared",
            case_id=case.case_id,
            exhibit_id=exhibit.exhibit_id,
            detail={
                "items": str(len(items)),
                "groups": str(len({g for g, _d in groups.values()})),
            },
        )
        return len(items)

    def _variants(
        self, exhibit: Exhibit, pictures: Mapping[int, FileResult]
    ) -> dict[int, list[str]]:
        by_path = {r.path: n for n, r in pictures.items()}
        variants: dict[int, list[str]] = {}
        for path, data in self._content.iter_contents(exhibit, set(by_path)):
            hashes = self._dihedral(data)
            if hashes:
                variants[by_path[path]] = hashes
        return variants
