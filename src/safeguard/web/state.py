"""What the app keeps for its lifetime: the services, key cache, rate limiter, metrics."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from safeguard.bootstrap import Services
from safeguard.storage.redis_rate_limits import Limiter
from safeguard.web.key_cache import KeyCache
from safeguard.web.metrics import ServiceMetrics


@dataclass
class AppState:
    """Per-process state of one app instance."""

    services: Services
    metrics: ServiceMetrics = field(default_factory=ServiceMetrics)
    key_cache: KeyCache = field(default_factory=KeyCache)
    limiter: Limiter = field(init=False)

    def __post_init__(self) -> None:
        # Shared by every worker and replica when the settings name a Redis server.
        self.limiter = self.services.rate_limiter


async def app_state(request: Request) -> AppState:
    """The app's state (a FastAPI dependency); loads the index on first use.

    The lifespan loads it in a server; in-process clients may skip the lifespan.
    """
    state: AppState = request.app.state.safeguard
    if not state.services.index_keeper.loaded:
        await run_in_threadpool(state.services.index_keeper.ensure_fresh)
    return state
