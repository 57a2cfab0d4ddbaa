"""``POST /v1/lists/{name}/augment``: a list keeper publishes augmentation hashes of an original."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from safeguard.domain.service import ApiKey, Scope
from safeguard.services.hash_lists.list_augmentation import AugmentationOutcome
from safeguard.web.auth import actor_of, require
from safeguard.web.list_schemas import RetroactiveJobOut
from safeguard.web.state import AppState, app_state

router = APIRouter(prefix="/v1/lists", tags=["lists"])

Writer = Annotated[ApiKey, Depends(require(Scope.LISTS_WRITE))]
State = Annotated[AppState, Depends(app_state)]

_PICTURE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


class SkippedOriginal(BaseModel):
    """An original that was not used, and why."""

    name: str
    reason: str


class AugmentationOut(BaseModel):
    """What an augmentation request did, and the jobs re-matching past uploads.

    The jobs are ``pending``: the server's background worker runs them. Follow one under
    ``GET /v1/lists/{name}/retroactive/{job_id}``.
    """

    list_name: str
    originals_read: int
    originals_matched: int
    entries_written: int
    skipped: list[SkippedOriginal]
    retroactive_jobs: list[RetroactiveJobOut]

    @classmethod
    def of(cls, outcome: AugmentationOutcome) -> AugmentationOut:
        """The response for a service outcome."""
        return cls(
            list_name=outcome.list_name,
            originals_read=outcome.originals_read,
            originals_matched=outcome.originals_matched,
            entries_written=outcome.entries_written,
            skipped=[SkippedOriginal(name=n, reason=r) for n, r in outcome.skipped],
            retroactive_jobs=[RetroactiveJobOut.of(job) for job in outcome.retroactive_jobs],
        )


@router.post(
    "/{name}/augment",
    response_model=AugmentationOut,
    summary="Publish augmentation hashes of one held original (the body) with the list",
    openapi_extra=_PICTURE_BODY,
)
async def augment_list(name: str, request: Request, key: Writer, state: State) -> AugmentationOut:
    """Store the PDQ hashes of the original's likely crops and small rotations in the list.

    The body is the original picture; it must match an entry of the list by SHA-256, SHA-1
    or MD5, else it is reported under ``skipped`` and nothing is written. The new entries
    are named ``<entry id>#<label>``, carry the entry's category and provenance, and are
    audited. The answer comes once they are stored: re-matching them against past uploads
    is a durable retroactive job (``retroactive_jobs``, ``pending``) that the server's
    background worker runs. The picture is not kept.
    """
    data = await request.body()
    augmentation = state.services.list_augmentation

    def run() -> AugmentationOutcome:
        # 0 batches: the job is recorded and left to the worker; the answer never waits
        # for a scan of the past uploads.
        return augmentation.augment(name, [("body", data)], actor_of(key), 0)

    return AugmentationOut.of(await run_in_threadpool(run))
