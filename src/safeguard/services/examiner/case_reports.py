"""Case and exhibit reports (HTML, JSON, CSV), the VICS 2.0 case export and hashdeep manifests.

Every report written is recorded in the case's audit log, with whether thumbnails were in it.
"""

from __future__ import annotations

import base64
import io
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, TextIO, cast

from PIL import Image, ImageFilter, ImageOps

from safeguard import __version__
from safeguard.domain.cases import Case, Exhibit, FileResult, FileStatus
from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.errors import ConfigurationError
from safeguard.domain.hash_lists import Category, HashEntry, Provenance
from safeguard.extraction.contract import EvidenceItem, ExtractionLimits
from safeguard.list_formats.contract import ListMetadata, ListWriter
from safeguard.reporting.contract import (
    CaseReport,
    ExhibitReport,
    category_key,
    renderer_named,
    renderer_names,
)
from safeguard.services.examiner.cases import CaseService, Clock, current_actor, utc_now

REPORT_FORMATS: tuple[str, ...] = (*renderer_names(), "pdf", "vics", "hashdeep")
"""Every ``--format`` value: the renderers, PDF (the HTML report printed) and the two
list-format exports."""

PdfPrinter = Callable[[str], bytes]
"""Prints a self-contained HTML document to PDF bytes (`reporting.pdf_rendering.html_to_pdf`)."""

THUMBNAIL_SIDE = 48
"""Longest side of a thumbnail before blurring, in pixels."""

THUMBNAIL_BLUR = 4.0
"""Gaussian blur radius applied to the small thumbnail: shapes stay, detail does not."""

MAX_THUMBNAILS = 500

ExhibitOpener = Callable[[Path, ExtractionLimits], Iterator[EvidenceItem]]
GradesOf = Callable[[int], Mapping[str, tuple[str, Category]]]
"""Examiner review: exhibit id -> path -> (grade label, category) of current grades."""
WriterLookup = Callable[[str], ListWriter]


def _default_writer(name: str) -> ListWriter:
    from safeguard.list_formats.registry import writer_named

    return writer_named(name)


def blurred_thumbnail(data: bytes) -> str | None:
    """A small, strongly blurred greyscale JPEG of an image, base64-encoded; None if undecodable."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                image.draft("L", (THUMBNAIL_SIDE * 2, THUMBNAIL_SIDE * 2))
                small = ImageOps.exif_transpose(image).convert("L")
                small.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombWarning):
        return None
    blurred = small.filter(ImageFilter.GaussianBlur(THUMBNAIL_BLUR))
    buffer = io.BytesIO()
    blurred.save(buffer, format="JPEG", quality=60)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def result_entry(result: FileResult) -> HashEntry | None:
    """A file result as a hash-list entry (for VICS and hashdeep writers); None without digests.

    The entry's file name is the full path inside the exhibit; its category and series are
    those of the deciding match, so a national database receives what the lists said.
    """
    digests = {
        algorithm: value
        for algorithm, value in (
            (HashAlgorithm.MD5, result.md5),
            (HashAlgorithm.SHA1, result.sha1),
            (HashAlgorithm.SHA256, result.sha256),
            (HashAlgorithm.PDQ, result.pdq),
        )
        if value
    }
    if not digests:
        return None
    deciding = next((m for m in result.matches if m.category == result.category), None)
    provenance = deciding.provenance if deciding else Provenance()
    return HashEntry(
        entry_id=result.sha256 or result.sha1 or result.md5 or result.path,
        digests=digests,
        category=result.category,
        provenance=provenance,
        file_name=result.path,
        size=result.size,
    )


class CaseReportService:
    """Builds report models from the case store and writes them in any format."""

    def __init__(
        self,
        cases: CaseService,
        open_exhibit: ExhibitOpener | None = None,
        writer_named: WriterLookup = _default_writer,
        clock: Clock = utc_now,
        print_pdf: PdfPrinter | None = None,
        grades_of: GradesOf | None = None,
        limits: ExtractionLimits | None = None,
    ) -> None:
        self._print_pdf = print_pdf
        self._grades_of = grades_of
        self._limits = limits or ExtractionLimits()
        self._cases = cases
        self._store = cases.store
        self._open_exhibit = open_exhibit
        self._writer_named = writer_named
        self._clock = clock

    def build(
        self,
        case_reference: str,
        *,
        exhibit_reference: str | None = None,
        show_known_good: bool = False,
        thumbnails: bool = False,
        actor: str = "",
    ) -> CaseReport:
        """The report model of a case, or of one of its exhibits.

        Args:
            case_reference: case number (or id).
            exhibit_reference: only this exhibit; all of the case's when None.
            show_known_good: list known-good files too (they are always counted).
            thumbnails: re-read known-bad images from the exhibits and add blurred thumbnails.
            actor: who asks; defaults to the operating-system user.

        Raises:
            NotFoundError: no such case or exhibit.
            ConfigurationError: thumbnails asked for without an exhibit reader.
        """
        case = self._cases.find(case_reference)
        exhibits = (
            [self._cases.exhibit(case, exhibit_reference)]
            if exhibit_reference
            else self._store.exhibits(case.case_id)
        )
        sections = [self._section(exhibit, show_known_good) for exhibit in exhibits]
        thumbs: dict[tuple[int, str], str] = {}
        if thumbnails:
            thumbs = self._thumbnails(sections)
        return CaseReport(
            case=case,
            exhibits=sections,
            audit=self._store.audit_events(case.case_id),
            generated_at=self._clock(),
            generated_by=actor or current_actor(),
            tool_version=__version__,
            thumbnails=thumbs,
        )

    def _section(self, exhibit: Exhibit, show_known_good: bool) -> ExhibitReport:
        listed: list[FileResult] = []
        counts: Counter[FileStatus] = Counter()
        categories: Counter[str] = Counter()
        for result in self._store.results(exhibit.exhibit_id):
            counts[result.status] += 1
            if result.status is FileStatus.KNOWN_BAD:
                categories[category_key(result)] += 1
            if show_known_good or result.status is not FileStatus.KNOWN_GOOD:
                listed.append(result)
        grades = self._grades_of(exhibit.exhibit_id) if self._grades_of else {}
        return ExhibitReport(
            exhibit=exhibit,
            runs=self._store.runs(exhibit.exhibit_id),
            results=listed,
            counts=dict(counts),
            category_counts=dict(sorted(categories.items())),
            hidden_known_good=0 if show_known_good else counts[FileStatus.KNOWN_GOOD],
            grade_counts=dict(sorted(Counter(label for label, _c in grades.values()).items())),
            graded={path: category for path, (_label, category) in grades.items()},
        )

    def _thumbnails(self, sections: Iterable[ExhibitReport]) -> dict[tuple[int, str], str]:
        if self._open_exhibit is None:
            raise ConfigurationError("thumbnails need an exhibit reader")
        thumbs: dict[tuple[int, str], str] = {}
        for section in sections:
            wanted = {
                r.path
                for r in section.results
                if r.status is FileStatus.KNOWN_BAD and r.media_type.startswith("image/")
            }
            if not wanted:
                continue
            exhibit = section.exhibit
            for item in self._open_exhibit(Path(exhibit.source_path), self._limits):
                if len(thumbs) >= MAX_THUMBNAILS or not wanted:
                    break
                if item.path not in wanted or not item.readable:
                    continue
                wanted.discard(item.path)
                try:
                    with item.open() as stream:
                        data = stream.read(64 * 1024 * 1024)
                except (OSError, ValueError, EOFError):
                    continue
                thumb = blurred_thumbnail(data)
                if thumb is not None:
                    thumbs[(exhibit.exhibit_id, item.path)] = thumb
        return thumbs

    def write(
        self,
        case_reference: str,
        fmt: str,
        output: Path,
        *,
        exhibit_reference: str | None = None,
        show_known_good: bool = False,
        thumbnails: bool = False,
        actor: str = "",
    ) -> Path:
        """Write a report or export to `output` and record it in the audit log.

        ``vics`` writes a VICS 2.0 case (images and videos, known-bad and unknown) and
        ``hashdeep`` a hashdeep manifest of every readable file; both through the list-format
        writers. Other formats are the reporting renderers.

        Raises:
            ConfigurationError: an unknown format.
            NotFoundError: no such case or exhibit.
        """
        if fmt not in REPORT_FORMATS:
            raise ConfigurationError(
                f"no report format {fmt!r}; choose from {', '.join(REPORT_FORMATS)}"
            )
        report = self.build(
            case_reference,
            exhibit_reference=exhibit_reference,
            show_known_good=show_known_good or fmt == "hashdeep",
            thumbnails=thumbnails and fmt in ("html", "pdf"),
            actor=actor,
        )
        if not output.parent.is_dir():
            raise ConfigurationError(
                f"cannot write {output}: the folder {output.parent} does not exist"
            )
        if fmt in ("vics", "hashdeep"):
            count = self._write_list(report, fmt, output)
        elif fmt == "pdf":
            self._write_pdf(report, output)
            count = sum(len(s.results) for s in report.exhibits)
        else:
            with output.open("w", encoding="utf-8", newline="") as stream:
                renderer_named(fmt).render(report, stream)
            count = sum(len(s.results) for s in report.exhibits)
        self._cases.audit(
            report.generated_by,
            "report.written",
            case_id=report.case.case_id,
            exhibit_id=report.exhibits[0].exhibit.exhibit_id if exhibit_reference else None,
            detail={
                "format": fmt,
                "file": output.name,
                "files_listed": str(count),
                "thumbnails": "yes" if report.thumbnails else "no",
            },
        )
        return output

    def _write_pdf(self, report: CaseReport, output: Path) -> None:
        if self._print_pdf is None:
            raise ConfigurationError("PDF output is not available in this installation")
        html = io.StringIO()
        renderer_named("html").render(report, html)
        data = self._print_pdf(html.getvalue())
        # Appears complete or not at all.
        partial = output.with_name(f".{output.name}.partial")
        try:
            partial.write_bytes(data)
            partial.replace(output)
        finally:
            partial.unlink(missing_ok=True)

    def _write_list(self, report: CaseReport, fmt: str, output: Path) -> int:
        entries = list(self._entries(report, fmt))
        writer = self._writer_named("vics-case" if fmt == "vics" else fmt)
        metadata = _export_metadata(report.case, report.generated_at, fmt)
        if writer.binary:
            with output.open("wb") as binary:
                return writer.write(entries, cast(BinaryIO, binary), metadata)
        with output.open("w", encoding="utf-8", newline="") as text:
            return writer.write(entries, cast(TextIO, text), metadata)

    @staticmethod
    def _entries(report: CaseReport, fmt: str) -> Iterator[HashEntry]:
        media = (FileStatus.KNOWN_BAD, FileStatus.UNKNOWN_IMAGE, FileStatus.UNKNOWN_VIDEO)
        for section in report.exhibits:
            for result in section.results:
                if fmt == "vics" and result.status not in media:
                    continue
                entry = result_entry(result)
                graded = section.graded.get(result.path)
                if entry is not None and graded is not None and fmt == "vics":
                    # The examiner's grade, not the list's suggestion, is what the case says.
                    entry = replace(entry, category=graded)
                if entry is not None:
                    yield entry


def _export_metadata(case: Case, at: datetime, fmt: str) -> ListMetadata:
    return ListMetadata(
        format_name=fmt,
        source="Safeguard",
        version=__version__,
        suggested_name=f"case {case.number} ({at.date().isoformat()})",
        stated={"CaseNumber": case.number},
    )
