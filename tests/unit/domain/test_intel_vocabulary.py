from __future__ import annotations

from datetime import datetime

import pytest

from safeguard.domain.errors import InputError
from safeguard.domain.intel.grading import Grading, HandlingCode
from safeguard.domain.intel.identifiers import Identifier, IdentifierKind
from safeguard.domain.intel.priority import Band
from safeguard.domain.intel.referrals import FileMatch, ReferralFile
from tests.intel_factories import T0


@pytest.mark.parametrize(
    ("kind", "raw", "service", "key"),
    [
        (IdentifierKind.EMAIL, " Someone@Example.COM ", "", "email:someone@example.com"),
        (IdentifierKind.PHONE, "+44 7700 900-123", "", "phone:+447700900123"),
        (
            IdentifierKind.SCREEN_NAME,
            "@Night_Owl",
            "Example Chat",
            "screen_name:example chat:night_owl",
        ),
        (
            IdentifierKind.PLATFORM_USER_ID,
            " 12345 ",
            "Example Chat",
            "platform_user_id:example chat:12345",
        ),
        (IdentifierKind.IP_ADDRESS, "::ffff:192.0.2.1", "", "ip:192.0.2.1"),
        (IdentifierKind.IP_ADDRESS, "2001:DB8:0:0::1", "", "ip:2001:db8::1"),
        (IdentifierKind.DEVICE_ID, "35-209900 176148:1", "", "device_id:352099001761481"),
        (IdentifierKind.POSTCODE, "sw1a1aa", "", "postcode:SW1A 1AA"),
        (IdentifierKind.POSTAL_ADDRESS, "1, Example  St.", "", "postal_address:1 example st"),
    ],
)
def test_identifiers_normalise_to_one_key(
    kind: IdentifierKind, raw: str, service: str, key: str
) -> None:
    assert Identifier.of(kind, raw, service=service).key == key


@pytest.mark.parametrize(
    ("kind", "raw", "service"),
    [
        (IdentifierKind.EMAIL, "not-an-address", ""),
        (IdentifierKind.PHONE, "07700 900123", ""),  # national form: the intake converts it
        (IdentifierKind.IP_ADDRESS, "192.0.2.300", ""),
        (IdentifierKind.SCREEN_NAME, "alone", ""),  # a screen name needs its service
        (IdentifierKind.DEVICE_ID, " ", ""),
    ],
)
def test_bad_identifiers_are_refused(kind: IdentifierKind, raw: str, service: str) -> None:
    with pytest.raises(InputError):
        Identifier.of(kind, raw, service=service)


def test_identifier_times_need_a_timezone_and_ports_a_range() -> None:
    with pytest.raises(InputError, match="timezone"):
        Identifier.of(IdentifierKind.IP_ADDRESS, "192.0.2.1", observed_at=datetime(2026, 1, 1))
    with pytest.raises(InputError, match="port"):
        Identifier.of(IdentifierKind.IP_ADDRESS, "192.0.2.1", observed_at=T0, port=70000)


def test_grading_codes() -> None:
    grading = Grading.parse("2bc", "UK law enforcement only")
    assert grading.code == "2BC"
    assert grading.handling is HandlingCode.CONDITIONS
    assert "Untested" in grading.describe()
    assert "UK law enforcement only" in grading.describe()
    with pytest.raises(InputError, match="conditions"):
        Grading.parse("1AC")
    with pytest.raises(InputError):
        Grading.parse("4AP")
    with pytest.raises(InputError):
        Grading.parse("1AP", "conditions on P")


def test_bands_parse_and_order() -> None:
    assert Band.parse("very-high") is Band.VERY_HIGH
    assert Band.LOW.rank < Band.MEDIUM.rank < Band.HIGH.rank < Band.VERY_HIGH.rank
    with pytest.raises(InputError):
        Band.parse("severe")


def test_image_keys_prefer_list_entries_then_the_strongest_digest() -> None:
    listed = ReferralFile(
        hashes={"md5": "a" * 32},
        matches=(
            FileMatch("bad", "E1", "md5"),
            FileMatch("good", "G1", "md5", list_kind="known-good"),
        ),
    )
    assert listed.image_keys == ("entry:bad:E1",)
    assert listed.is_known
    assert not listed.is_first_generation
    fresh = ReferralFile(hashes={"md5": "a" * 32, "sha256": "b" * 64})
    assert fresh.image_keys == ("sha256:" + "b" * 64,)
    assert fresh.is_first_generation
