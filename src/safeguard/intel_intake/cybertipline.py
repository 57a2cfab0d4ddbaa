"""CyberTipline-shaped reports (as dictionaries) to referrals, with element-precise errors.

The XML and JSON readers both turn each ``report`` into nested dictionaries with the
CyberTipline element names (``incidentSummary``, ``personOrUserReported``,
``fileDetails`` ...) and hand them to `referral_from_report`. A missing required element, an
unknown incident type, a time without a timezone, a bad IP address or a hash of the wrong
length refuses the whole report, naming the element, so nothing half-read is stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from safeguard.domain.digests import HashAlgorithm, normalise_digest
from safeguard.domain.errors import InputError
from safeguard.domain.intel.identifiers import Identifier, IdentifierKind
from safeguard.domain.intel.referrals import (
    EstimatedLocation,
    Referral,
    ReferralFile,
    ReferralSource,
    with_content_key,
)
from safeguard.intel_intake.contract import ReadOptions
from safeguard.intel_intake.phones import to_e164

INCIDENT_TYPES = frozenset(
    {
        "Child Pornography (possession, manufacture, and distribution)",
        "Child Sex Trafficking",
        "Child Sex Tourism",
        "Child Sexual Molestation",
        "Misleading Domain Name",
        "Misleading Words or Digital Images on the Internet",
        "Online Enticement of Children for Sexual Act",
        "Unsolicited Obscene Material Sent to a Child",
    }
)
INDUSTRY_CLASSIFICATIONS = frozenset({"A1", "A2", "B1", "B2"})
HASH_TYPES = {
    "MD5": HashAlgorithm.MD5,
    "SHA1": HashAlgorithm.SHA1,
    "SHA-1": HashAlgorithm.SHA1,
    "SHA256": HashAlgorithm.SHA256,
    "SHA-256": HashAlgorithm.SHA256,
    "PDQ": HashAlgorithm.PDQ,
}


class ReportError(InputError):
    """One report cannot be read: `element` says where, the message says why."""

    def __init__(self, element: str, reason: str) -> None:
        self.element = element
        self.reason = reason
        super().__init__(f"{element}: {reason}")


def many(node: Mapping[str, Any], name: str) -> list[Any]:
    """The values under `name` as a list (absent: empty; one value: a list of one)."""
    value = node.get(name)
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def one(node: Mapping[str, Any], name: str, path: str, *, required: bool = False) -> Any:
    """The single value under `name`.

    Raises:
        ReportError: required and absent, or given more than once.
    """
    values = many(node, name)
    if not values:
        if required:
            raise ReportError(f"{path}/{name}", "required element is missing")
        return None
    if len(values) > 1:
        raise ReportError(f"{path}/{name}", "given more than once")
    return values[0]


def text(node: Mapping[str, Any], name: str, path: str, *, required: bool = False) -> str:
    """The text under `name`, trimmed ("" when absent and not required)."""
    value = one(node, name, path, required=required)
    if value is None:
        return ""
    if isinstance(value, Mapping):
        raise ReportError(f"{path}/{name}", "expected text, found nested elements")
    result = str(value).strip()
    if required and not result:
        raise ReportError(f"{path}/{name}", "required element is empty")
    return result


def node(value: Any, path: str) -> Mapping[str, Any]:
    """`value` as a nested element.

    Raises:
        ReportError: it is text.
    """
    if isinstance(value, Mapping):
        return value
    if value is None or (isinstance(value, str) and not value.strip()):
        return {}
    raise ReportError(path, "expected nested elements, found text")


def when(value: str, path: str) -> datetime:
    """An ISO 8601 time with its timezone.

    Raises:
        ReportError: not ISO 8601, or no timezone.
    """
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ReportError(path, f"not an ISO 8601 time: {value!r}") from None
    if parsed.utcoffset() is None:
        raise ReportError(path, f"time {value!r} has no timezone")
    return parsed


def flags(value: Any) -> tuple[str, ...]:
    """Annotation names: child elements (XML), a list of names or a mapping of booleans."""
    if value is None:
        return ()
    if isinstance(value, Mapping):
        return tuple(sorted(k for k, v in value.items() if v not in (False, "false", "0")))
    if isinstance(value, list):
        return tuple(sorted(str(v).strip() for v in value if str(v).strip()))
    return tuple(sorted(p.strip() for p in str(value).split(",") if p.strip()))


def _identifier(path: str, kind: IdentifierKind, raw: str, **extra: Any) -> Identifier:
    try:
        return Identifier.of(kind, raw, **extra)
    except InputError as exc:
        raise ReportError(path, str(exc)) from None


def _person(person: Mapping[str, Any], path: str, region: str) -> tuple[str, list[Identifier]]:
    found: list[Identifier] = []
    name = " ".join(
        part for part in (text(person, "firstName", path), text(person, "lastName", path)) if part
    )
    for index, raw in enumerate(many(person, "email"), start=1):
        found.append(_identifier(f"{path}/email[{index}]", IdentifierKind.EMAIL, str(raw)))
    for index, raw in enumerate(many(person, "phone"), start=1):
        where = f"{path}/phone[{index}]"
        try:
            number = to_e164(str(raw), region)
        except InputError as exc:
            raise ReportError(where, str(exc)) from None
        found.append(_identifier(where, IdentifierKind.PHONE, number))
    for index, raw in enumerate(many(person, "address"), start=1):
        where = f"{path}/address[{index}]"
        address = node(raw, where)
        postcode = text(address, "zipCode", where)
        lines = [text(address, part, where) for part in ("address", "city", "state", "country")]
        street = ", ".join(line for line in lines if line)
        if street:
            found.append(_identifier(where, IdentifierKind.POSTAL_ADDRESS, street))
        if postcode:
            found.append(_identifier(f"{where}/zipCode", IdentifierKind.POSTCODE, postcode))
    return name, found


def _reported(
    reported: Mapping[str, Any], path: str, reporter: str, region: str
) -> tuple[str, list[Identifier]]:
    identifiers: list[Identifier] = []
    name = ""
    person = one(reported, "personOrUserReportedPerson", path)
    if person is not None:
        name, found = _person(
            node(person, f"{path}/personOrUserReportedPerson"),
            f"{path}/personOrUserReportedPerson",
            region,
        )
        identifiers.extend(found)
    service = text(reported, "espService", path) or reporter
    esp_id = text(reported, "espIdentifier", path)
    if esp_id:
        identifiers.append(
            _identifier(
                f"{path}/espIdentifier", IdentifierKind.PLATFORM_USER_ID, esp_id, service=service
            )
        )
    screen = text(reported, "screenName", path)
    if screen:
        identifiers.append(
            _identifier(f"{path}/screenName", IdentifierKind.SCREEN_NAME, screen, service=service)
        )
    for index, raw in enumerate(many(reported, "ipCaptureEvent"), start=1):
        where = f"{path}/ipCaptureEvent[{index}]"
        event = node(raw, where)
        address = text(event, "ipAddress", where, required=True)
        stamp = text(event, "dateTime", where)
        port_text = text(event, "port", where)
        try:
            port = int(port_text) if port_text else None
        except ValueError:
            raise ReportError(f"{where}/port", f"not a port number: {port_text!r}") from None
        identifiers.append(
            _identifier(
                f"{where}/ipAddress",
                IdentifierKind.IP_ADDRESS,
                address,
                observed_at=when(stamp, f"{where}/dateTime") if stamp else None,
                port=port,
                detail=text(event, "eventName", where),
            )
        )
    for index, raw in enumerate(many(reported, "deviceId"), start=1):
        where = f"{path}/deviceId[{index}]"
        device = node(raw, where)
        identifiers.append(
            _identifier(
                f"{where}/idValue",
                IdentifierKind.DEVICE_ID,
                text(device, "idValue", where, required=True),
                detail=text(device, "idType", where),
            )
        )
    return name, identifiers


def _file(details: Mapping[str, Any], path: str) -> ReferralFile:
    hashes: dict[str, str] = {}
    for index, raw in enumerate(many(details, "originalFileHash"), start=1):
        where = f"{path}/originalFileHash[{index}]"
        entry = node(raw, where) if isinstance(raw, Mapping) else {"value": raw}
        kind = str(entry.get("hashType", "")).strip().upper()
        value = str(entry.get("value", "")).strip()
        algorithm = HASH_TYPES.get(kind)
        if algorithm is None:
            raise ReportError(
                f"{where}/hashType", f"unknown hash type {kind!r} (known: {sorted(HASH_TYPES)})"
            )
        try:
            hashes[algorithm.value] = normalise_digest(algorithm, value)
        except InputError as exc:
            raise ReportError(where, str(exc)) from None
    industry = text(details, "industryClassification", path).upper()
    if industry and industry not in INDUSTRY_CLASSIFICATIONS:
        raise ReportError(
            f"{path}/industryClassification", f"{industry!r} is not one of A1, A2, B1, B2"
        )
    return ReferralFile(
        name=text(details, "originalFileName", path) or text(details, "fileName", path),
        hashes=hashes,
        industry_classification=industry,
        annotations=flags(one(details, "fileAnnotations", path)),
    )


def referral_from_report(
    report: Mapping[str, Any], path: str, options: ReadOptions, fallback_id: str
) -> Referral:
    """The referral one CyberTipline-shaped report gives.

    Args:
        report: the report as nested dictionaries.
        path: the report's element path, for errors (``report[2]``).
        options: received time, default grading and phone region.
        fallback_id: the external id when the report has no ``reportId``.

    Raises:
        ReportError: the report is malformed (the element and the reason).
    """
    summary = node(one(report, "incidentSummary", path, required=True), f"{path}/incidentSummary")
    summary_path = f"{path}/incidentSummary"
    incident_type = text(summary, "incidentType", summary_path, required=True)
    if incident_type not in INCIDENT_TYPES:
        raise ReportError(
            f"{summary_path}/incidentType", f"unknown incident type {incident_type!r}"
        )
    incident_at = when(
        text(summary, "incidentDateTime", summary_path, required=True),
        f"{summary_path}/incidentDateTime",
    )
    reporter_node = node(one(report, "reporter", path), f"{path}/reporter")
    reporting = node(
        one(reporter_node, "reportingPerson", f"{path}/reporter"),
        f"{path}/reporter/reportingPerson",
    )
    reporter = text(reporter_node, "companyTemplate", f"{path}/reporter") or text(
        reporting, "email", f"{path}/reporter/reportingPerson"
    )
    reported_path = f"{path}/personOrUserReported"
    reported = node(one(report, "personOrUserReported", path, required=True), reported_path)
    location_node = node(
        one(reported, "estimatedLocation", reported_path), f"{reported_path}/estimatedLocation"
    )
    country = text(location_node, "countryCode", f"{reported_path}/estimatedLocation").upper()
    name, identifiers = _reported(
        reported, reported_path, reporter, country or options.default_region
    )
    if not identifiers:
        raise ReportError(reported_path, "the reported person has no identifier to act on")
    files = tuple(
        _file(node(raw, f"{path}/fileDetails[{i}]"), f"{path}/fileDetails[{i}]")
        for i, raw in enumerate(many(report, "fileDetails"), start=1)
    )
    location = (
        EstimatedLocation(
            text(location_node, "city", reported_path),
            text(location_node, "region", reported_path),
            country,
        )
        if location_node
        else None
    )
    return with_content_key(
        Referral(
            source=ReferralSource.CYBERTIPLINE,
            external_id=text(report, "reportId", path) or fallback_id,
            content_key="",
            received_at=options.received_at,
            grading=options.grading,
            incident_type=incident_type,
            incident_at=incident_at,
            escalation=text(summary, "escalateToHighPriority", summary_path),
            annotations=flags(one(summary, "reportAnnotations", summary_path)),
            reporter=reporter,
            person_name=name,
            location=location,
            identifiers=tuple(identifiers),
            files=files,
            prior_reports=tuple(str(v).strip() for v in many(reported, "priorCTReports")),
            additional_info=text(reported, "additionalInfo", reported_path),
        )
    )
