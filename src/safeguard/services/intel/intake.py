"""Use case: take referrals in, idempotently, attach them to subjects, then relink and reassess.

Subjects are resolved from account identifiers only: an email address, a platform user id
or a screen name on its service. A referral carrying one already seen joins that
subject; referrals sharing one within a batch share a new subject; a referral with none
gets a subject of its own. Names are never used (two people share names; one person
uses many). When account identifiers point at several subjects the referral joins the
oldest, and the shared identifiers link the others to it for an analyst to merge or not.

Files are matched against the hash lists on intake (list, version, category, distance).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from safeguard.domain.cases import Case, Exhibit, FileResult
from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.errors import InputError
from safeguard.domain.intel.grading import Grading
from safeguard.domain.intel.identifiers import IdentifierKind
from safeguard.domain.intel.referrals import FileMatch, Referral, content_key_of
from safeguard.domain.intel.subjects import IntelAuditEvent, Subject, SubjectExhibit, SubjectOrigin
from safeguard.domain.matches import Match
from safeguard.domain.service import QueuedReport
from safeguard.intel_intake.contract import ReadOptions, Refusal
from safeguard.intel_intake.conversions import (
    known_bad_files,
    referral_from_exhibit,
    referral_from_queued_report,
)
from safeguard.intel_intake.registry import detect_reader, reader_named
from safeguard.services.intel.clock import Clock, utc_now
from safeguard.services.intel.linking import LinkRun
from safeguard.services.intel.subjects import SubjectService
from safeguard.storage.intel_store import IntelStore

RESOLVING_KINDS = frozenset(
    {IdentifierKind.EMAIL, IdentifierKind.PLATFORM_USER_ID, IdentifierKind.SCREEN_NAME}
)
"""Identifier kinds that name one account, and so resolve referrals to one subject."""

PLATFORM_SERVICE = "platform"
"""The service name of accounts in the matching service's own reports."""

PLATFORM_GRADING = Grading.parse("2BP")
"""A platform's confirmed report: an untested source, corroborated by the hash match."""

FORENSIC_GRADING = Grading.parse("1AP")
"""A forensic examination: a reliable source, known directly."""

FileMatcher = Callable[[Mapping[str, str]], tuple[FileMatch, ...]]
"""Matches a file's hashes (algorithm name -> hex) against the lists."""


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    """What an ingest did.

    Attributes:
        added: referrals newly stored.
        unchanged: referrals that were already stored (same content key).
        refused: reports that could not be read.
        subjects_created: subjects made for new referrals.
        link_run: the relinking that followed (None when nothing was added).
    """

    added: list[Referral] = field(default_factory=list)
    unchanged: list[Referral] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    subjects_created: int = 0
    link_run: LinkRun | None = None


def label_for(referral: Referral) -> str:
    """A display label for a new subject: its first account identifier, else the referral."""
    by_kind = {i.kind: i for i in reversed(referral.identifiers)}
    for kind in (IdentifierKind.EMAIL, IdentifierKind.SCREEN_NAME, IdentifierKind.PLATFORM_USER_ID):
        if kind in by_kind:
            identifier = by_kind[kind]
            return (
                f"{identifier.value} ({identifier.service})"
                if identifier.service
                else identifier.value
            )
    return f"{referral.source.value} {referral.external_id}"


class IntakeService:
    """Stores referrals and keeps subjects, links and priorities in step."""

    def __init__(
        self,
        store: IntelStore,
        subjects: SubjectService,
        match_files: FileMatcher | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.store = store
        self.subjects = subjects
        self._match_files = match_files
        self._clock = clock

    def ingest(
        self,
        referrals: Sequence[Referral],
        actor: str = "intake",
        refused: Sequence[Refusal] = (),
        refresh: bool = True,
    ) -> IngestOutcome:
        """Store the referrals not already stored, resolve their subjects, match their files.

        Args:
            referrals: as readers made them (content keys are computed if empty; a preset
                `subject_id` is kept).
            actor: who ingests, for the audit log.
            refused: reports the reader refused, carried into the outcome and the audit.
            refresh: relink and reassess afterwards (a caller ingesting in many batches
                may do it once at the end with `SubjectService.refresh`).
        """
        keyed = [
            r if r.content_key else replace(r, content_key=content_key_of(r)) for r in referrals
        ]
        known = self.store.known_content_keys(r.content_key for r in keyed)
        fresh: list[Referral] = []
        seen: set[str] = set()
        for referral in keyed:
            if referral.content_key in known or referral.content_key in seen:
                continue
            seen.add(referral.content_key)
            fresh.append(self._with_matches(referral))
        resolved, created = self._resolve(fresh)
        stored = self.store.add_referrals(resolved) if resolved else []
        by_key = {r.content_key: r for r, _ in stored}
        outcome = IngestOutcome(subjects_created=created, refused=list(refused))
        added_keys = {r.content_key for r, new in stored if new}
        earlier = self.store.referrals_by_keys(known)
        for referral in keyed:
            key = referral.content_key
            if key in added_keys:
                outcome.added.append(by_key[key])
                added_keys.discard(key)
            elif key in by_key or key in earlier:
                outcome.unchanged.append(by_key.get(key) or earlier[key])
        self.store.append_audit(
            IntelAuditEvent(
                self._clock(),
                actor,
                "referrals.ingested",
                None,
                {
                    "added": str(len(outcome.added)),
                    "unchanged": str(len(outcome.unchanged)),
                    "refused": str(len(outcome.refused)),
                    "subjects_created": str(created),
                },
            )
        )
        if refresh and outcome.added:
            touched = sorted({r.subject_id for r in outcome.added if r.subject_id is not None})
            link_run = self.subjects.links.relink()
            self.subjects.priorities.reassess(touched)
            outcome = replace(outcome, link_run=link_run)
        return outcome

    def ingest_files(
        self,
        paths: Sequence[Path],
        *,
        actor: str,
        grading: Grading | None = None,
        reader_name: str | None = None,
        default_region: str = "GB",
    ) -> IngestOutcome:
        """Read report files (format detected unless named) and ingest what they hold.

        A malformed report or an unreadable file is refused with the file, the element and
        the reason; the others are ingested.
        """
        options = ReadOptions(self._clock(), grading or Grading(), default_region)
        referrals, refusals = read_files(paths, options, reader_name)
        return self.ingest(referrals, actor=actor, refused=refusals)

    def ingest_confirmed_reports(
        self,
        reports: Iterable[QueuedReport],
        *,
        actor: str,
        service: str = PLATFORM_SERVICE,
        grading: Grading | None = None,
    ) -> IngestOutcome:
        """Confirmed platform reports become referrals (once each, however often called)."""
        referrals: list[Referral] = []
        refusals: list[Refusal] = []
        now = self._clock()
        for report in reports:
            item = referral_from_queued_report(
                report, service=service, received_at=now, grading=grading or PLATFORM_GRADING
            )
            if isinstance(item, Refusal):
                refusals.append(item)
            else:
                referrals.append(item)
        return self.ingest(referrals, actor=actor, refused=refusals)

    def ingest_exhibit(
        self,
        case: Case,
        exhibit: Exhibit,
        results: Iterable[FileResult],
        *,
        subject_id: int,
        actor: str,
        grading: Grading | None = None,
    ) -> tuple[SubjectExhibit, IngestOutcome]:
        """Attach a scanned exhibit to a subject, with its counts and known-bad files.

        The known-bad files become a referral of the subject, so the images found on a
        seized device link its owner to others who hold them.
        """
        self.store.subject(subject_id)
        examined = 0
        kept: list[FileResult] = []
        for result in results:
            examined += 1
            kept.append(result)
        files = known_bad_files(kept)
        now = self._clock()
        attachment = self.subjects.attach_exhibit(
            SubjectExhibit(
                subject_id, case.number, exhibit.reference, examined, len(files), now, actor
            )
        )
        referral = referral_from_exhibit(
            case,
            exhibit,
            files,
            subject_id=subject_id,
            received_at=now,
            grading=grading or FORENSIC_GRADING,
        )
        return attachment, self.ingest([referral], actor=actor)

    def _with_matches(self, referral: Referral) -> Referral:
        if self._match_files is None or not referral.files:
            return referral
        files = tuple(
            replace(f, matches=f.matches or self._match_files(f.hashes)) if f.hashes else f
            for f in referral.files
        )
        return replace(referral, files=files)

    def _resolve(self, referrals: Sequence[Referral]) -> tuple[list[Referral], int]:
        """Attach each referral to a subject: existing by account key, else a new one."""
        keys_of = [
            sorted({i.key for i in r.identifiers if i.kind in RESOLVING_KINDS}) for r in referrals
        ]
        existing = self.store.subjects_by_keys({k for keys in keys_of for k in keys})
        assigned: dict[str, int] = {}
        placeholders: dict[int, Referral] = {}
        chosen: list[int] = []
        for referral, keys in zip(referrals, keys_of, strict=True):
            if referral.subject_id is not None:
                subject_id = referral.subject_id
            else:
                known = [existing[k] for k in keys if k in existing]
                batch = [assigned[k] for k in keys if k in assigned]
                if known:
                    subject_id = min(known)
                elif batch:
                    subject_id = max(batch)  # placeholders are negative: the first made
                else:
                    subject_id = -(len(placeholders) + 1)
                    placeholders[subject_id] = referral
            for key in keys:
                assigned.setdefault(key, subject_id)
            chosen.append(subject_id)
        now = self._clock()
        order = sorted(placeholders, reverse=True)
        made = self.store.create_subjects(
            [
                Subject(label_for(placeholders[p]), SubjectOrigin.INTAKE, now, "intake")
                for p in order
            ]
        )
        real = {p: s.subject_id for p, s in zip(order, made, strict=True)}
        out = [
            replace(r, subject_id=real.get(s, s)) for r, s in zip(referrals, chosen, strict=True)
        ]
        return out, len(made)


def file_matcher(
    match_digests: Callable[[Mapping[HashAlgorithm, str]], Sequence[Match]],
) -> FileMatcher:
    """A `FileMatcher` over a matcher of digests (`MatchService.match_digests`)."""

    def match(hashes: Mapping[str, str]) -> tuple[FileMatch, ...]:
        digests = {HashAlgorithm(name): value for name, value in hashes.items()}
        return tuple(
            FileMatch(
                list_name=m.list_name,
                entry_id=m.entry_id,
                algorithm=m.algorithm.value,
                list_version=m.list_version,
                list_kind=m.list_kind.value,
                distance=m.distance,
                category_scheme=m.category.scheme,
                category_code=m.category.code,
                category_label=m.category.label,
            )
            for m in match_digests(digests)
        )

    return match


def read_files(
    paths: Sequence[Path], options: ReadOptions, reader_name: str | None = None
) -> tuple[list[Referral], list[Refusal]]:
    """Every report in the files: referrals read, and refusals (a bad file never stops others)."""
    referrals: list[Referral] = []
    refusals: list[Refusal] = []
    for path in paths:
        try:
            reader = reader_named(reader_name) if reader_name else detect_reader(path)
        except InputError as exc:
            refusals.append(Refusal(str(path), "", str(exc).removeprefix(f"{path}: ")))
            continue
        for item in reader.read(path, options):
            if isinstance(item, Refusal):
                refusals.append(item)
            else:
                referrals.append(item)
    return referrals, refusals
