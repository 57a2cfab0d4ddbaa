"""Builders of referrals for intelligence tests (reserved identifiers only)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from safeguard.domain.intel.identifiers import Identifier, IdentifierKind
from safeguard.domain.intel.referrals import (
    FileMatch,
    Referral,
    ReferralFile,
    ReferralSource,
    with_content_key,
)

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def email(local: str) -> Identifier:
    return Identifier.of(IdentifierKind.EMAIL, f"{local}@example.com")


def ip(address: str, minutes: int = 0, port: int | None = None) -> Identifier:
    return Identifier.of(
        IdentifierKind.IP_ADDRESS, address, observed_at=T0 + timedelta(minutes=minutes), port=port
    )


def listed(entry: str, category: str = "B", list_name: str = "demo-known-bad") -> ReferralFile:
    return ReferralFile(
        name=f"{entry}.jpg",
        hashes={"md5": f"{abs(hash(entry)) % 16**32:032x}"},
        matches=(
            FileMatch(
                list_name=list_name,
                entry_id=entry,
                algorithm="md5",
                list_version="v1",
                category_scheme="uk-sentencing",
                category_code=category,
                category_label=f"Category {category}",
            ),
        ),
    )


def unlisted(seed: str) -> ReferralFile:
    return ReferralFile(name=f"{seed}.jpg", hashes={"sha256": f"{abs(hash(seed)):064x}"[-64:]})


def referral(
    external_id: str,
    identifiers: Sequence[Identifier] = (),
    files: Sequence[ReferralFile] = (),
    *,
    days: int = 0,
    annotations: Sequence[str] = (),
    escalation: str = "",
    incident_type: str = "Child Pornography (possession, manufacture, and distribution)",
    subject_id: int | None = None,
    source: ReferralSource = ReferralSource.CYBERTIPLINE,
) -> Referral:
    return with_content_key(
        Referral(
            source=source,
            external_id=external_id,
            content_key="",
            received_at=T0 + timedelta(days=days),
            incident_at=T0 + timedelta(days=days),
            incident_type=incident_type,
            annotations=tuple(annotations),
            escalation=escalation,
            identifiers=tuple(identifiers),
            files=tuple(files),
            subject_id=subject_id,
        )
    )
