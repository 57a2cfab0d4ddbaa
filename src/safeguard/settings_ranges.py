"""The values each numeric setting accepts, checked whenever a `Settings` is made.

A value outside its range is refused at start-up with a `ConfigurationError` that names the
setting and its ``SAFEGUARD_*`` variable, the value given, the range and what the setting
does, instead of failing later where it is used (a negative worker count, a zero timeout,
a PDQ threshold that lets everything match). docs/settings.md shows the same ranges
(tests/unit/test_settings_ranges.py compares them).

Upper bounds sit far above any real deployment; they catch a value given in the wrong unit
(milliseconds for seconds, bytes for megabytes) before it disables a guard.
"""

from __future__ import annotations

from dataclasses import dataclass

from safeguard.domain.errors import ConfigurationError, InputError
from safeguard.domain.matches import MAX_PDQ_THRESHOLD

MIB = 1024**2
GIB = 1024**3


@dataclass(frozen=True, slots=True)
class SettingRange:
    """The whole numbers one setting accepts.

    Attributes:
        low: the smallest value accepted.
        high: the largest value accepted; None for no upper bound.
        means: what the setting does, for the refusal message (with what 0 means when
            `low` is 0 and 0 is a switch).
        zero: what 0 means when 0 is accepted although `low` is above it (a guard that 0
            turns off); empty when 0 is only accepted inside the range.
    """

    low: int
    high: int | None
    means: str
    zero: str = ""

    def allows(self, value: int) -> bool:
        """Whether `value` is accepted."""
        if self.zero and value == 0:
            return True
        return value >= self.low and (self.high is None or value <= self.high)

    def describe(self) -> str:
        """The range in words: ``from 1 to 600``, ``at least 0``, ``0 (off) or from 10 to 100``."""
        if self.high is None:
            span = f"at least {self.low:,}"
        else:
            span = f"from {self.low:,} to {self.high:,}"
        return f"0 ({self.zero}) or {span}" if self.zero else span


SETTING_RANGES: dict[str, SettingRange] = {
    "workers": SettingRange(0, 4096, "processes for hashing and scanning; 0: one per core"),
    "pdq_threshold": SettingRange(
        0,
        MAX_PDQ_THRESHOLD,
        f"PDQ Hamming distance that matches; above {MAX_PDQ_THRESHOLD} unrelated pictures match",
    ),
    "pdq_quality_floor": SettingRange(
        0, 100, "PDQ hashes below this quality (0 to 100) are not matched"
    ),
    "max_image_pixels": SettingRange(1, 4_000_000_000, "pixels one image may decode to"),
    "max_upload_bytes": SettingRange(1024, GIB, "largest request body the service accepts"),
    "upload_max_pixels": SettingRange(1, 4_000_000_000, "pixels one upload may decode to"),
    "batch_max_pixels": SettingRange(
        1, 40_000_000_000, "pixels one batch call may decode, all its items together"
    ),
    "upload_max_expansion": SettingRange(
        10,
        1_000_000,
        "times its encoded size an upload's declared pixels x bit depth may be",
        zero="off",
    ),
    "decode_workers": SettingRange(
        0, 256, "decode subprocesses per service worker; 0: decode in the worker itself"
    ),
    "decode_timeout_seconds": SettingRange(1, 600, "seconds before a decode is killed"),
    "decode_wait_seconds": SettingRange(
        0, 300, "seconds an upload waits for a free decoder; 0: 503 at once when all are busy"
    ),
    "decode_memory_mb": SettingRange(
        256, 65_536, "address-space limit of a decode subprocess in MiB", zero="no limit"
    ),
    "sqlite_busy_timeout_ms": SettingRange(
        100, 600_000, "milliseconds a SQLite write waits for another writer's lock"
    ),
    "unauthenticated_body_bytes": SettingRange(
        1024, MIB, "largest body of a request without credentials"
    ),
    "unauthenticated_rate_per_minute": SettingRange(
        0, 1_000_000, "requests a minute per client address without a valid key; 0: no limit"
    ),
    "bodies_in_flight_bytes": SettingRange(
        1024, 64 * GIB, "request body bytes one service worker holds at once"
    ),
    "header_timeout_seconds": SettingRange(1, 300, "seconds to send a whole request head"),
    "archive_max_depth": SettingRange(
        0, 32, "containers deep a scan expands archives; 0: archives are not expanded"
    ),
    "archive_max_expanded_bytes": SettingRange(
        MIB, 16 * 1024 * GIB, "bytes one archive may expand to in a scan"
    ),
    "archive_max_ratio": SettingRange(
        1, 1_000_000, "expanded/compressed ratio of an archive member"
    ),
    "api_rate_per_minute": SettingRange(
        1, 100_000_000, "requests a minute for API keys that set no rate"
    ),
    "index_poll_ms": SettingRange(
        100, 3_600_000, "milliseconds between a worker's checks of the list store"
    ),
    "index_max_stale_seconds": SettingRange(
        1, 86_400, "seconds since the index was checked before /readyz fails"
    ),
    "retroactive_batch_uploads": SettingRange(
        1, 1_000_000, "past uploads a retroactive job compares per saved step"
    ),
    "retroactive_hit_limit": SettingRange(
        0, None, "hits one list change acts on before a person must resume; 0: never held"
    ),
    "retroactive_lease_seconds": SettingRange(
        10, 86_400, "seconds a worker holds a retroactive job after each saved step"
    ),
    "password_time_cost": SettingRange(1, 100, "Argon2id passes over memory per password"),
    "password_memory_kib": SettingRange(1024, 4 * MIB, "Argon2id memory per password hash in KiB"),
    "session_idle_minutes": SettingRange(1, 43_200, "minutes a web session may go unused"),
    "session_max_hours": SettingRange(1, 720, "hours a web session may last in all"),
    "sign_in_max_failures": SettingRange(
        1, 1000, "consecutive failed sign-ins that lock an account"
    ),
    "sign_in_lockout_minutes": SettingRange(1, 10_080, "minutes an account stays locked"),
}
"""Every integer field of `Settings`, by field name."""

AT_LEAST_AS_LARGE: tuple[tuple[str, str, str], ...] = (
    (
        "bodies_in_flight_bytes",
        "max_upload_bytes",
        "otherwise an upload of the largest size accepted never fits and always gets 503",
    ),
    (
        "batch_max_pixels",
        "upload_max_pixels",
        "otherwise a batch call refuses an image a single upload may send",
    ),
)
"""(larger, smaller, why): pairs of settings where the first must not be below the second."""


def check_ranges(settings: object, env_prefix: str) -> None:
    """Refuse a `Settings` whose numeric settings are outside `SETTING_RANGES`.

    Raises:
        ConfigurationError: naming the first setting out of range, its variable, the value,
            the range and what the setting does.
    """
    for name, allowed in SETTING_RANGES.items():
        value = getattr(settings, name)
        if not allowed.allows(value):
            raise ConfigurationError(
                f"{name} ({env_prefix}{name.upper()}) must be {allowed.describe()}, "
                f"not {value:,}: {allowed.means}"
            )
    for larger, smaller, why in AT_LEAST_AS_LARGE:
        if getattr(settings, larger) < getattr(settings, smaller):
            raise ConfigurationError(
                f"{larger} ({env_prefix}{larger.upper()}) must be at least {smaller} "
                f"({env_prefix}{smaller.upper()}, {getattr(settings, smaller):,}), "
                f"not {getattr(settings, larger):,}: {why}"
            )


def check_deadline_hours(spec: str, env_prefix: str) -> None:
    """Refuse package deadline hours that `DeadlinePolicy.from_hours` cannot use.

    Raises:
        ConfigurationError: not four finite numbers of hours above 0.
    """
    try:
        # Imported here: the packages vocabulary is not needed to start the CLI.
        from safeguard.domain.packages import DeadlinePolicy

        DeadlinePolicy.from_hours(spec)
    except (InputError, ValueError, OverflowError) as exc:
        # ValueError and OverflowError: NaN or a number too large for a timedelta.
        raise ConfigurationError(
            f"package_deadline_hours ({env_prefix}PACKAGE_DEADLINE_HOURS) must be four "
            f"numbers of hours above 0 (Very High, High, Medium, Low), not {spec!r}"
        ) from exc
