"""Settings from the environment (``SAFEGUARD_*``) with defaults for a single box.

Only this module and `bootstrap` know which concrete adapters exist.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from platformdirs import user_data_dir

from safeguard.domain.errors import ConfigurationError
from safeguard.domain.matches import DEFAULT_PDQ_THRESHOLD
from safeguard.domain.retroactive_jobs import BATCH_UPLOADS, LEASE_SECONDS, MAX_HITS_PER_CHANGE
from safeguard.settings_ranges import SETTING_RANGES, check_deadline_hours, check_ranges

ENV_PREFIX = "SAFEGUARD_"


HMA_API_MODES = ("off", "key", "loopback")
"""`Settings.hma_api`: the HMA-compatible routes are off; on with an API key required; or on
for loopback clients only, without a key (a sidecar on the same host)."""


def database_url(value: str) -> str:
    """A SQLAlchemy URL for what a person typed (``--db``, ``SAFEGUARD_DB``).

    URLs stay as they are; anything else is the path of a SQLite file.
    """
    if "://" in value or not value:
        return value
    return f"sqlite:///{Path(value).expanduser().resolve()}"


def default_data_dir() -> Path:
    """Folder for the default SQLite database, indexes and service state."""
    return Path(user_data_dir("safeguard", appauthor=False))


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything configurable, with defaults that work on a fresh machine.

    Every integer setting must lie in its range (`safeguard.settings_ranges.SETTING_RANGES`,
    listed in docs/settings.md); making a `Settings` outside one raises `ConfigurationError`.

    Attributes:
        data_dir: where the default database and index files live.
        database_url: SQLAlchemy URL; SQLite in `data_dir` unless set.
        workers: processes for hashing and scanning; 0 means one per core.
        pdq_mode: ``fast`` (reduced-scale JPEG decode) or ``reference`` (bit-exact with pdqhash).
        pdq_threshold: default Hamming threshold for PDQ matching.
        pdq_quality_floor: below this a PDQ hash is kept but not used for matching.
        max_image_pixels: decoded images larger than this are refused (bomb guard).
        max_upload_bytes: the service refuses larger uploads.
        upload_max_pixels: the service decodes at most this many pixels of one upload
            (after the fast path's JPEG reduction); larger images get 422.
        batch_max_pixels: the pixels one batch call may decode, all its items together.
        upload_max_expansion: refuse uploads whose declared pixels x bit depth exceed their
            encoded size this many times (above 4 MP; a decompression bomb).
        decode_workers: decode subprocesses per service worker (concurrent decodes); 0
            decodes in the worker itself (tests and embedding only: nothing is isolated).
        decode_timeout_seconds: a decode running longer is killed (422).
        decode_wait_seconds: how long an upload waits for a free decoder before 503.
        decode_memory_mb: address-space limit of each decode subprocess.
        sqlite_busy_timeout_ms: how long a SQLite write waits for another writer's lock.
        unauthenticated_body_bytes: largest body accepted from a request carrying no
            credentials (sign-in forms and the like); larger ones get 413 unread.
        unauthenticated_rate_per_minute: requests without a valid key (none, an unknown or
            revoked one, a failed sign-in) one client address may make a minute; over it
            429 with Retry-After. 0 turns the limit off.
        trusted_proxies: comma-separated addresses or networks (CIDR) of reverse proxies
            whose ``X-Forwarded-For`` names the client; empty: the socket's peer is the client.
        bodies_in_flight_bytes: request bodies one service worker holds at once, all
            requests together; a request that would go over gets 503 with Retry-After.
        metrics_token: bearer token a Prometheus scraper sends for ``/metrics``; when empty,
            only an ``admin`` key may read the metrics.
        webhook_allowed_hosts: comma-separated host names, addresses or networks (CIDR)
            that webhooks may reach although they are loopback, private or link-local.
        header_timeout_seconds: a connection must send a whole request head within this.
        archive_max_depth, archive_max_expanded_bytes, archive_max_ratio: archive bomb guards.
        redis_url: Redis server (``redis://host:6379/0``) holding the API keys' rate limits,
            shared by every worker and replica of the service; empty: limits per process.
        api_rate_per_minute: the service's rate limit for API keys that set none.
        index_poll_ms: how often each service worker checks the list store for changes.
        index_max_stale_seconds: `/readyz` fails when the index was not checked for this long.
        retroactive_batch_uploads: past uploads a retroactive job compares per step (its
            progress is saved after each), 1 to 1,000,000.
        retroactive_hit_limit: past uploads one list change's retroactive job acts on before
            it is held for a person; 0: never held.
        retroactive_lease_seconds: how long a worker holds a retroactive job after each
            saved step (a dead worker's job is taken over after this), 10 to 86,400; one
            step must take less.
        batch_backend: ``local`` (process pool on this machine) or ``ray`` (Ray cluster).
        ray_address: Ray cluster to join (``auto``, ``ray://host:10001``); empty starts a
            local Ray. Used only with the ``ray`` backend.
        chromium: the Chromium executable that prints PDF reports; empty means Debian's
            ``/usr/bin/chromium`` (or ``chromium`` on the PATH).
        package_deadline_hours: hours a force has to act on a package, for the Very High,
            High, Medium and Low bands (default 24 h, 72 h, 14 days, 28 days).
        operation_name: the title of the operation dashboard.
        password_time_cost, password_memory_kib: Argon2id cost of password hashes.
        session_idle_minutes, session_max_hours: when a web session ends unused / in all.
        sign_in_max_failures, sign_in_lockout_minutes: consecutive failures that lock an
            account, and for how long.
        cookie_secure: ``auto`` (Secure when the request came over https), ``always`` (behind
            a TLS-terminating proxy) or ``never``.
        hma_api: the Hasher-Matcher-Actioner-compatible routes (``/status``, ``/h``, ``/m``,
            ``/c``): ``off`` (default), ``key`` (an API key in a header, as on ``/v1``) or
            ``loopback`` (no key, loopback clients only). See docs/hma-compatibility.md.
        intel_rules: a priority rule set (TOML) to use instead of the shipped one.
    """

    data_dir: Path = field(default_factory=default_data_dir)
    database_url: str = ""
    workers: int = 0
    pdq_mode: str = "fast"
    pdq_threshold: int = DEFAULT_PDQ_THRESHOLD
    pdq_quality_floor: int = 50
    max_image_pixels: int = 178_956_970
    max_upload_bytes: int = 50 * 1024 * 1024
    upload_max_pixels: int = 16_000_000
    batch_max_pixels: int = 64_000_000
    upload_max_expansion: int = 1100
    decode_workers: int = 2
    decode_timeout_seconds: int = 10
    decode_wait_seconds: int = 5
    decode_memory_mb: int = 1536
    sqlite_busy_timeout_ms: int = 30000
    unauthenticated_body_bytes: int = 8192
    unauthenticated_rate_per_minute: int = 300
    trusted_proxies: str = ""
    bodies_in_flight_bytes: int = 160 * 1024 * 1024
    metrics_token: str = ""
    webhook_allowed_hosts: str = ""
    header_timeout_seconds: int = 10
    archive_max_depth: int = 5
    archive_max_expanded_bytes: int = 20 * 1024**3
    archive_max_ratio: int = 200
    redis_url: str = ""
    api_rate_per_minute: int = 6000
    index_poll_ms: int = 1000
    index_max_stale_seconds: int = 30
    retroactive_batch_uploads: int = BATCH_UPLOADS
    retroactive_hit_limit: int = MAX_HITS_PER_CHANGE
    retroactive_lease_seconds: int = LEASE_SECONDS
    batch_backend: str = "local"
    ray_address: str = ""
    chromium: str = ""
    package_deadline_hours: str = "24,72,336,672"
    operation_name: str = "Operation"
    password_time_cost: int = 3
    password_memory_kib: int = 64 * 1024
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    sign_in_max_failures: int = 5
    sign_in_lockout_minutes: int = 15
    cookie_secure: str = "auto"
    hma_api: str = "off"
    intel_rules: str = ""

    def __post_init__(self) -> None:
        if self.pdq_mode not in ("fast", "reference"):
            raise ConfigurationError(
                f"pdq_mode must be 'fast' or 'reference', not {self.pdq_mode!r}"
            )
        if self.cookie_secure not in ("auto", "always", "never"):
            raise ConfigurationError(
                f"cookie_secure must be 'auto', 'always' or 'never', not {self.cookie_secure!r}"
            )
        if self.hma_api not in HMA_API_MODES:
            raise ConfigurationError(
                f"hma_api must be one of {', '.join(HMA_API_MODES)}, not {self.hma_api!r}"
            )
        if self.batch_backend not in ("local", "ray"):
            raise ConfigurationError(
                f"batch_backend must be 'local' or 'ray', not {self.batch_backend!r}"
            )
        check_ranges(self, ENV_PREFIX)
        check_deadline_hours(self.package_deadline_hours, ENV_PREFIX)

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in `data_dir`."""
        return self.database_url or f"sqlite:///{self.data_dir / 'safeguard.db'}"

    @property
    def resolved_workers(self) -> int:
        """Worker processes to use: the setting, or one per available core."""
        if self.workers > 0:
            return self.workers
        return (
            len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity")
            else os.cpu_count() or 1
        )

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with the given fields replaced; None values are ignored."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})  # type: ignore[arg-type]


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Read ``SAFEGUARD_*`` variables over the defaults.

    Raises:
        ConfigurationError: a variable cannot be parsed, or is outside its range.
    """
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for name, kind in Settings.__annotations__.items():
        raw = env.get(ENV_PREFIX + name.upper())
        if raw is None:
            continue
        try:
            if kind == "int":
                values[name] = int(raw)
            elif kind == "Path":
                values[name] = Path(raw).expanduser()
            else:
                values[name] = raw
        except ValueError as exc:
            allowed = SETTING_RANGES.get(name)
            wanted = f"a whole number {allowed.describe()}" if allowed else "a whole number"
            raise ConfigurationError(f"{ENV_PREFIX}{name.upper()}={raw!r} is not {wanted}") from exc
    # SAFEGUARD_DB is the short form documented in the README; both take a path or a URL.
    if "SAFEGUARD_DB" in env and "database_url" not in values:
        values["database_url"] = env["SAFEGUARD_DB"]
    if "database_url" in values:
        values["database_url"] = database_url(str(values["database_url"]))
    return Settings(**values)  # type: ignore[arg-type]
