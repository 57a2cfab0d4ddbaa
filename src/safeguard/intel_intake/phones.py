"""Phone numbers to E.164 with Google's numbering plan (phonenumbers, Apache-2.0).

Numbers are accepted when *possible* in their plan (right length for the country), not
only when assigned: the drama and documentation ranges used in tests and demos
(UK 07700 900000-900999) are possible but never assigned.
"""

from __future__ import annotations

import phonenumbers

from safeguard.domain.errors import InputError


def to_e164(raw: str, default_region: str = "GB") -> str:
    """`raw` in E.164 (``+447700900123``); national numbers read in `default_region`.

    Raises:
        InputError: not a phone number.
    """
    try:
        number = phonenumbers.parse(raw, default_region.upper() or None)
    except phonenumbers.NumberParseException as exc:
        raise InputError(f"not a phone number: {raw!r} ({exc})") from exc
    if not phonenumbers.is_possible_number(number):
        raise InputError(f"not a possible phone number: {raw!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
