"""API-key authentication, scope checks and rate limits, as FastAPI dependencies.

A token comes in ``Authorization: Bearer <token>`` or ``X-API-Key: <token>``. No token or
an unknown one is 401; a key without the scope is 403; over its rate is 429. Checked keys
are cached for a few seconds so a busy matcher does not query the store on every call;
a revoked key therefore stops working within
`safeguard.web.key_cache.KEY_CACHE_SECONDS`.

A request whose token is not a cached valid key is charged to its client address's limit
(`safeguard.web.client_limits`) before the token is looked up: over it, 429 and no
lookup. A token that was a valid key in the last hour is looked up again uncharged. So guessed tokens cost at most that rate in store lookups per address, and at most
`KEY_LOOKUPS_PER_MINUTE` per worker from all addresses together.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from safeguard.domain.service import ApiKey, Scope
from safeguard.web.client_limits import REFUSAL, acquire_token, retry_after
from safeguard.web.state import AppState, app_state

KEY_LOOKUPS_PER_MINUTE = 600
"""Store lookups of tokens not in the key cache, per worker process: unknown tokens (an
attacker's guesses) beyond this get 429 without touching the store. Known keys are cached,
so they look up once per `KEY_CACHE_SECONDS` at most."""

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer sg_...`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="`X-API-Key: sg_...`")


async def _token(
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header: Annotated[str | None, Depends(_header)],
) -> str | None:
    if bearer is not None and bearer.credentials:
        return bearer.credentials
    return header or None


async def authenticated_key(
    request: Request,
    token: Annotated[str | None, Depends(_token)],
    state: Annotated[AppState, Depends(app_state)],
) -> ApiKey:
    """The caller's key, rate-limited; 401 without a valid key, 429 over its rate."""
    found, key = state.key_cache.lookup(token) if token is not None else (True, None)
    revalidation = not found and token is not None and state.key_cache.was_valid(token)
    if (not found or key is None) and not revalidation:
        # No key, a known bad one, or a new one to look up: the address pays first. (A
        # key that was valid is looked up again free, so that a platform's own keys never
        # spend its address's allowance, however many workers and replicas it meets.)
        wait = await state.client_limits.charge(request.scope)
        if wait > 0:
            raise HTTPException(429, REFUSAL, headers={"Retry-After": retry_after(wait)})
    if token is None:
        raise HTTPException(401, "an API key is required", headers={"WWW-Authenticate": "Bearer"})
    # Async with a cache in front: a thread hop (and a query) only on a cache miss.
    if not found:
        if await take_token(state, lookup_bucket(), KEY_LOOKUPS_PER_MINUTE) > 0:
            raise HTTPException(429, "too many unknown API keys; retry later")
        key = await run_in_threadpool(state.services.api_keys.authenticate, token)
        state.key_cache.remember(token, key)
    if key is None:
        raise HTTPException(
            401, "unknown or revoked API key", headers={"WWW-Authenticate": "Bearer"}
        )
    per_minute = key.rate_per_minute or state.services.settings.api_rate_per_minute
    wait = await take_token(state, key.key_id, per_minute)
    if wait > 0:
        raise HTTPException(429, "rate limit exceeded", headers={"Retry-After": retry_after(wait)})
    request.state.key_id = key.key_id
    return key


def lookup_bucket() -> str:
    """The bucket of `KEY_LOOKUPS_PER_MINUTE`: this process's, with a shared limiter too.

    (Key ids are hex and client buckets ``client:...``, so the names never meet.)
    """
    return f"key-lookups:{os.getpid()}"


async def take_token(state: AppState, bucket: str, per_minute: int) -> float:
    """A token from the app's limiter (`safeguard.web.client_limits.acquire_token`)."""
    return await acquire_token(state.limiter, bucket, per_minute)


def require(scope: Scope) -> Callable[..., Awaitable[ApiKey]]:
    """A dependency that admits keys holding `scope` (or admin); 403 for others."""

    async def dependency(key: Annotated[ApiKey, Depends(authenticated_key)]) -> ApiKey:
        if not key.allows(scope):
            raise HTTPException(403, f"this key lacks the {scope.value!r} scope")
        return key

    return dependency


def actor_of(key: ApiKey) -> str:
    """How the audit log names the holder of `key`."""
    return f"key:{key.key_id} ({key.name})"


# --- Without dependency injection (the hot path) --------------------------------------
SECURITY_REQUIREMENTS: list[dict[str, list[str]]] = [{"HTTPBearer": []}, {"APIKeyHeader": []}]
"""The OpenAPI ``security`` of a route that calls `key_with_scope` (as `require` declares)."""


async def key_with_scope(request: Request, scope: Scope) -> ApiKey:
    """What `require(scope)` resolves to, for a route that calls it itself.

    FastAPI's resolution of that chain of dependencies cost more CPU than the index lookup
    of a ``/v1/match`` by hash, so that route calls this instead; the answers are the same
    (401, 403, 429), from the same functions.
    """
    token = await _token(await _bearer(request), await _header(request))
    key = await authenticated_key(request, token, await app_state(request))
    if not key.allows(scope):
        raise HTTPException(403, f"this key lacks the {scope.value!r} scope")
    return key
