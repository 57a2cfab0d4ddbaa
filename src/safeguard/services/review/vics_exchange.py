"""VICS case files in and out, for examiners who grade in another tool.

Export writes every graded item of a case as a VICS 2.0 case (category per the grade;
"not indecent" and "ignorable" are noted in the comments as ``Safeguard grade: NI``/``IG``).
Import reads a VICS case or hash set and grades the case's review items whose hashes it
lists: by category (in the case's scheme, or a Project VIC category), or by that note.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO, TextIO, cast

from safeguard import __version__
from safeguard.domain.cases import Case
from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.errors import InputError
from safeguard.domain.hash_lists import HashEntry, Provenance
from safeguard.domain.people import User
from safeguard.domain.review import (
    SCHEME_OPTIONS,
    GradeOption,
    GradingScheme,
    Outcome,
    option_for_category,
    option_for_code,
)
from safeguard.list_formats.contract import ErrorPolicy, ListMetadata, ListReader, ListWriter
from safeguard.services.examiner.cases import CaseService
from safeguard.services.review.grading import ReviewService
from safeguard.services.review.publication import entry_for, graded_items

_NOTE = re.compile(r"Safeguard grade: ([A-Z0-9]+)")


def _default_writer(name: str) -> ListWriter:
    from safeguard.list_formats.registry import writer_named

    return writer_named(name)


def _default_reader(path: Path) -> ListReader:
    from safeguard.list_formats.registry import detect_reader

    return detect_reader(path)


class VicsExchange:
    """`safeguard review export|import`."""

    def __init__(
        self,
        cases: CaseService,
        review: ReviewService,
        writer_named: Callable[[str], ListWriter] = _default_writer,
        detect_reader: Callable[[Path], ListReader] = _default_reader,
    ) -> None:
        self._cases = cases
        self._review = review
        self._writer_named = writer_named
        self._detect_reader = detect_reader

    def export(self, case: Case, output: Path, actor: str) -> int:
        """Write the case's graded items as a VICS 2.0 case file; returns how many."""
        entries: list[HashEntry] = []
        for item, grade in graded_items(self._review.store, self._cases, case):
            option = grade.option
            entry = entry_for(item, grade, case, None)
            if entry is None and item.sha256 is None and item.md5 is None:
                continue
            if entry is None:  # ignorable: still exported, so the other tool sees the decision
                digests = {
                    a: v
                    for a, v in ((HashAlgorithm.MD5, item.md5), (HashAlgorithm.SHA256, item.sha256))
                    if v
                }
                entry = HashEntry(item.sha256 or str(item.md5), digests, size=item.size)
            note = f"Safeguard grade: {option.code} ({grade.examiner})"
            entries.append(
                replace(
                    entry,
                    file_name=item.path,
                    provenance=Provenance(source_record_id=f"case {case.number}", notes=note),
                )
            )
        writer = self._writer_named("vics-case")
        metadata = ListMetadata(
            format_name="vics",
            source="Safeguard",
            version=__version__,
            suggested_name=f"case {case.number} grades",
            stated={"CaseNumber": case.number},
        )
        output.parent.mkdir(parents=True, exist_ok=True)
        if writer.binary:
            with output.open("wb") as binary:
                count = writer.write(entries, cast(BinaryIO, binary), metadata)
        else:
            with output.open("w", encoding="utf-8", newline="") as text:
                count = writer.write(entries, cast(TextIO, text), metadata)
        self._cases.audit(
            actor,
            "review.exported",
            case_id=case.case_id,
            detail={"file": output.name, "items": str(count)},
        )
        return count

    def import_file(self, case: Case, path: Path, examiner: User) -> int:
        """Grade the case's items that the VICS file lists; returns how many were graded.

        Raises:
            ListFormatError: the file cannot be read.
        """
        scheme = self._review.scheme(case)
        by_digest: dict[str, GradeOption] = {}
        with self._detect_reader(path).read(path, errors=ErrorPolicy.STRICT) as parsed:
            for entry in parsed.entries:
                option = _option_of(scheme, entry)
                if option is None:
                    continue
                for algorithm in (HashAlgorithm.SHA256, HashAlgorithm.SHA1, HashAlgorithm.MD5):
                    value = entry.digests.get(algorithm)
                    if value:
                        by_digest[f"{algorithm}:{value.lower()}"] = option
        graded = 0
        for exhibit in self._cases.store.exhibits(case.case_id):
            per_key: dict[str, list[int]] = {}
            for item in self._review.store.items(exhibit.exhibit_id):
                for algorithm, value in (
                    (HashAlgorithm.SHA256, item.sha256),
                    (HashAlgorithm.SHA1, item.sha1),
                    (HashAlgorithm.MD5, item.md5),
                ):
                    option = by_digest.get(f"{algorithm}:{value}") if value else None
                    if option is not None:
                        per_key.setdefault(option.key, []).append(item.item_no)
                        break
            for key, numbers in per_key.items():
                graded += len(
                    self._review.grade(case, exhibit, numbers, key, examiner, source="vics-import")
                )
        return graded


def _option_of(scheme: GradingScheme, entry: HashEntry) -> GradeOption | None:
    note = _NOTE.search(entry.provenance.notes or "")
    if note:
        noted = option_for_code(scheme, note.group(1))
        if noted is None:
            raise InputError(
                f"grade {note.group(1)} is not a grade of the {scheme} scheme this case uses"
            )
        return noted
    if entry.category.is_uncategorised:
        return None
    found = option_for_category(scheme, entry.category)
    if found is None and scheme is GradingScheme.PROJECT_VIC:
        found = option_for_code(scheme, entry.category.code)
    if found is None:
        raise InputError(
            f"category {entry.category.scheme} {entry.category.code} is not a grade of the "
            f"{scheme} scheme this case uses ({', '.join(o.code for o in SCHEME_OPTIONS[scheme] if o.outcome is Outcome.KNOWN_BAD)})"
        )
    return found
