"""What the app keeps for its lifetime: the services, key cache, rate limits, metrics."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from safeguard.bootstrap import Services
from safeguard.storage.shared_rate_limits import Limiter
from safeguard.web.client_limits import ClientLimits
from safeguard.web.key_cache import KeyCache
from safeguard.web.metrics import ServiceMetrics


@dataclass
class AppState:
    """Per-process state of one app instance."""

    services: Services
    metrics: ServiceMetrics = field(default_factory=ServiceMetrics)
    key_cache: KeyCache = field(default_factory=KeyCache)
    limiter: Limiter = field(init=False)
    client_limits: ClientLimits = field(init=False)

    def __post_init__(self) -> None:
        # Shared by every worker and replica through Redis or PostgreSQL (`rate_limiter`).
        self.limiter = self.services.rate_limiter
        settings = self.services.settings
        self.client_limits = ClientLimits(
            self.limiter,
            settings.unauthenticated_rate_per_minute,
            settings.trusted_proxies,
            loopback_exempt=settings.hma_api == "loopback",
        )


async def app_state(request: Request) -> AppState:
    """The app's state (a FastAPI dependency); loads the index on first use.

    The lifespan loads it in a server; in-process clients may skip the lifespan.
    """
    state: AppState = request.app.state.safeguard
    if not state.services.index_keeper.loaded:
        await run_in_threadpool(state.services.index_keeper.ensure_fresh)
    return state
