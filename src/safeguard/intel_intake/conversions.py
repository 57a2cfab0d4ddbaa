"""Referrals that arrive without a file: confirmed platform reports and forensic exhibits.

- A report the matching service drafted and a person confirmed (`QueuedReport`) becomes a
  referral from the platform: the uploader's account, screen name and upload IP, and the
  file's hashes with the matches that raised it.
- A forensic exhibit's known-bad files become a referral attached to a given subject, so
  the images found on a seized device link its owner to others who hold them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from safeguard.domain.cases import Case, Exhibit, FileResult, FileStatus
from safeguard.domain.errors import InputError
from safeguard.domain.intel.grading import Grading
from safeguard.domain.intel.identifiers import Identifier, IdentifierKind
from safeguard.domain.intel.referrals import (
    FileMatch,
    Referral,
    ReferralFile,
    ReferralSource,
    with_content_key,
)
from safeguard.domain.matches import Match
from safeguard.domain.service import QueuedReport, ReportStatus
from safeguard.intel_intake.contract import ReadItem, Refusal

_REPORT_HASH_NAMES = {"MD5": "md5", "SHA1": "sha1", "SHA256": "sha256", "PDQ": "pdq"}


def file_match_of(match: Match) -> FileMatch:
    """A list match as a referral file keeps it."""
    return FileMatch(
        list_name=match.list_name,
        entry_id=match.entry_id,
        algorithm=match.algorithm.value,
        list_version=match.list_version,
        list_kind=match.list_kind.value,
        distance=match.distance,
        category_scheme=match.category.scheme,
        category_code=match.category.code,
        category_label=match.category.label,
    )


def referral_from_queued_report(
    report: QueuedReport, *, service: str, received_at: datetime, grading: Grading
) -> ReadItem:
    """The referral a confirmed platform report gives, or why it cannot give one.

    Args:
        report: the report, confirmed by a person.
        service: the platform's service name (accounts are per service).
        received_at: when the referral is taken in.
        grading: the grading for platform referrals.
    """
    source = f"queued report {report.report_id}"
    if report.status is not ReportStatus.CONFIRMED:
        return Refusal(
            source, "status", f"only confirmed reports become referrals, not {report.status.value}"
        )
    identifiers: list[Identifier] = []
    try:
        if report.reported_user:
            identifiers.append(
                Identifier.of(
                    IdentifierKind.PLATFORM_USER_ID, report.reported_user, service=service
                )
            )
        if report.screen_name:
            identifiers.append(
                Identifier.of(IdentifierKind.SCREEN_NAME, report.screen_name, service=service)
            )
        if report.ip_address:
            identifiers.append(
                Identifier.of(
                    IdentifierKind.IP_ADDRESS,
                    report.ip_address,
                    observed_at=report.incident_at,
                    detail="Upload",
                )
            )
    except InputError as exc:
        return Refusal(source, "personOrUserReported", str(exc))
    if not identifiers:
        return Refusal(
            source, "personOrUserReported", "the report names no account, screen name or IP"
        )
    hashes = {
        _REPORT_HASH_NAMES[name]: value.lower()
        for name, value in report.file_hashes.items()
        if name in _REPORT_HASH_NAMES
    }
    file = ReferralFile(
        name=report.file_name or "",
        hashes=hashes,
        industry_classification=report.industry_classification or "",
        matches=tuple(file_match_of(m) for m in report.matches),
    )
    return with_content_key(
        Referral(
            source=ReferralSource.PLATFORM_REPORT,
            external_id=f"report-{report.report_id}",
            content_key="",
            received_at=received_at,
            grading=grading,
            incident_type=report.incident_type,
            incident_at=report.incident_at or report.created_at,
            reporter=service,
            identifiers=tuple(identifiers),
            files=(file,),
            additional_info=report.decision_note or "",
        )
    )


def known_bad_files(results: Iterable[FileResult]) -> list[ReferralFile]:
    """Referral files for an exhibit's known-bad results (hashes and their matches)."""
    files = []
    for result in results:
        if result.status is not FileStatus.KNOWN_BAD:
            continue
        hashes = {
            name: value
            for name, value in (
                ("md5", result.md5),
                ("sha1", result.sha1),
                ("sha256", result.sha256),
                ("pdq", result.pdq),
            )
            if value
        }
        files.append(
            ReferralFile(
                name=result.path,
                hashes=hashes,
                matches=tuple(file_match_of(m) for m in result.matches),
            )
        )
    return files


def referral_from_exhibit(
    case: Case,
    exhibit: Exhibit,
    files: Sequence[ReferralFile],
    *,
    subject_id: int,
    received_at: datetime,
    grading: Grading,
) -> Referral:
    """A referral carrying an exhibit's known-bad files, attached to `subject_id`."""
    return with_content_key(
        Referral(
            source=ReferralSource.FORENSIC_CASE,
            external_id=f"{case.number}/{exhibit.reference}",
            content_key="",
            received_at=received_at,
            grading=grading,
            incident_type="Forensic examination",
            incident_at=exhibit.created_at,
            reporter=case.examiner,
            files=tuple(files),
            subject_id=subject_id,
        )
    )
