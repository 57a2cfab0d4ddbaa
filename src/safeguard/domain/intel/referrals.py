"""A referral: one report about a person, where it came from, how it is graded, what it carries.

Referrals arrive from CyberTipline-shaped reports, from the matching service's confirmed
reports, from forensic cases and from analysts. Each has a content key (a digest of what
it says) so ingesting the same report twice changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from safeguard.domain.intel.grading import Grading
from safeguard.domain.intel.identifiers import Identifier

KNOWN_BAD = "known-bad"
"""The `FileMatch.list_kind` of a match that makes a file known material."""

_HASH_PREFERENCE = ("sha256", "sha1", "md5", "pdq")


class ReferralSource(StrEnum):
    """Where a referral came from."""

    CYBERTIPLINE = "cybertipline"
    PLATFORM_REPORT = "platform-report"
    FORENSIC_CASE = "forensic-case"
    ANALYST = "analyst"


@dataclass(frozen=True, slots=True)
class FileMatch:
    """A referral file's match against a hash list at intake (never the image itself).

    Attributes:
        list_name, list_version, list_kind: the list as it stood at intake.
        entry_id: the list entry matched.
        algorithm: the digest that matched (``md5``, ``pdq``, ...).
        distance: 0 for exact digests; Hamming distance for PDQ.
        category_scheme, category_code, category_label: the entry's category.
    """

    list_name: str
    entry_id: str
    algorithm: str
    list_version: str = ""
    list_kind: str = KNOWN_BAD
    distance: int = 0
    category_scheme: str = "none"
    category_code: str = ""
    category_label: str = ""


@dataclass(frozen=True, slots=True)
class ReferralFile:
    """One file a referral carries: its hashes and what they matched on intake.

    Attributes:
        name: the file name the source gave (never used for matching).
        hashes: algorithm name (``md5``, ``sha1``, ``sha256``, ``pdq``) -> lower-case hex.
        industry_classification: the source's A1/A2/B1/B2, if given.
        annotations: the source's file annotations (``viral``, ``potentialMeme``, ...).
        matches: matches against the lists at intake.
    """

    name: str = ""
    hashes: Mapping[str, str] = field(default_factory=dict)
    industry_classification: str = ""
    annotations: tuple[str, ...] = ()
    matches: tuple[FileMatch, ...] = ()

    @property
    def known_matches(self) -> tuple[FileMatch, ...]:
        """Matches on known-bad lists."""
        return tuple(m for m in self.matches if m.list_kind == KNOWN_BAD)

    @property
    def is_known(self) -> bool:
        """True when the file matched a known-bad list."""
        return bool(self.known_matches)

    @property
    def is_first_generation(self) -> bool:
        """True for hashed files on no list at all: possibly newly made material."""
        return bool(self.hashes) and not self.matches

    @property
    def image_keys(self) -> tuple[str, ...]:
        """What identifies the image across referrals.

        The known-bad list entries it matched (so re-encodings and reports carrying
        different digests of one listed image agree), else its strongest digest.
        """
        entries = sorted({f"entry:{m.list_name}:{m.entry_id}" for m in self.known_matches})
        if entries:
            return tuple(entries)
        for algorithm in _HASH_PREFERENCE:
            if algorithm in self.hashes:
                return (f"{algorithm}:{self.hashes[algorithm]}",)
        return ()


@dataclass(frozen=True, slots=True)
class EstimatedLocation:
    """Where the source believes the person is (CyberTipline ``estimatedLocation``)."""

    city: str = ""
    region: str = ""
    country_code: str = ""


@dataclass(frozen=True, slots=True)
class Referral:
    """One referral about one reported person.

    Attributes:
        source: where it came from.
        external_id: the source's own id (a CyberTipline report id, a queued-report id,
            a case number and exhibit).
        content_key: SHA-256 of the referral's canonical content; the idempotency key.
        received_at: when Safeguard took it in.
        grading: its 3x5x2 grading.
        incident_type: CyberTipline ``incidentType`` or the source's equivalent.
        incident_at: when the incident happened, if known.
        escalation: the source's reason to escalate to high priority; "" when none.
        annotations: report annotations (``sextortion``, ``csamSolicitation``, ...).
        reporter: who reported it (a platform, an examiner).
        person_name: the name given for the reported person, kept as reported and never
            used to link or resolve subjects.
        location: the estimated location, if any.
        identifiers: the reported person's identifiers.
        files: the files it carries.
        prior_reports: earlier report ids the source names.
        additional_info: free text from the source.
        subject_id: the subject it is attached to (None before intake resolves it).
        referral_id: the store's id; 0 before stored.
    """

    source: ReferralSource
    external_id: str
    content_key: str
    received_at: datetime
    grading: Grading = field(default_factory=Grading)
    incident_type: str = ""
    incident_at: datetime | None = None
    escalation: str = ""
    annotations: tuple[str, ...] = ()
    reporter: str = ""
    person_name: str = ""
    location: EstimatedLocation | None = None
    identifiers: tuple[Identifier, ...] = ()
    files: tuple[ReferralFile, ...] = ()
    prior_reports: tuple[str, ...] = ()
    additional_info: str = ""
    subject_id: int | None = None
    referral_id: int = 0

    @property
    def when(self) -> datetime:
        """The incident time when known, else when it was received."""
        return self.incident_at or self.received_at


IMAGE_KEY_KIND = "image"


def linkable_keys(referral: Referral) -> list[tuple[str, str, datetime | None, int | None]]:
    """The referral's linkable things as (kind, key, observed_at, port), duplicates dropped.

    Identifiers give their kind and key; files give their image keys with kind ``image``.
    """
    seen: set[tuple[str, str, datetime | None, int | None]] = set()
    keys: list[tuple[str, str, datetime | None, int | None]] = []
    for identifier in referral.identifiers:
        item = (identifier.kind.value, identifier.key, identifier.observed_at, identifier.port)
        if item not in seen:
            seen.add(item)
            keys.append(item)
    for file in referral.files:
        for key in file.image_keys:
            item = (IMAGE_KEY_KIND, key, None, None)
            if item not in seen:
                seen.add(item)
                keys.append(item)
    return keys


def content_key_of(referral: Referral) -> str:
    """SHA-256 of what the referral says, ignoring when it was received and what it matched.

    Two ingests of one report (even re-serialised, or after the lists changed) get the same
    key; any change to what the report says gives a new one.
    """
    identifiers = sorted(
        [
            i.kind.value,
            i.value,
            i.service,
            i.observed_at.isoformat() if i.observed_at else "",
            -1 if i.port is None else i.port,
            i.detail,
        ]
        for i in referral.identifiers
    )
    files = sorted(
        [f.name, sorted(f.hashes.items()), f.industry_classification, sorted(f.annotations)]
        for f in referral.files
    )
    location = referral.location
    canonical = [
        referral.source.value,
        referral.external_id,
        referral.incident_type,
        referral.incident_at.isoformat() if referral.incident_at else "",
        referral.escalation,
        sorted(referral.annotations),
        referral.reporter,
        referral.person_name,
        [location.city, location.region, location.country_code] if location else [],
        identifiers,
        files,
        sorted(referral.prior_reports),
        referral.additional_info,
    ]
    text = json.dumps(canonical, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def with_content_key(referral: Referral) -> Referral:
    """The referral with its `content_key` computed by `content_key_of`."""
    return replace(referral, content_key=content_key_of(referral))
