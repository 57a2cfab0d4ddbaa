"""``/v1/lists``: create, import, add/remove entries, enable/disable, threshold and actions.

Also the retroactive jobs that re-match past uploads after entries are added.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from starlette.concurrency import run_in_threadpool

from safeguard.domain.matches import check_pdq_threshold
from safeguard.domain.service import ApiKey, Scope
from safeguard.services.hash_lists.list_changes import ListChange
from safeguard.web.auth import actor_of, require
from safeguard.web.list_schemas import (
    EntriesAdd,
    EntriesRemove,
    ImportCountsOut,
    ListChangeOut,
    ListCreate,
    ListOut,
    ListUpdate,
    ListWithSecret,
    RetroactiveHitOut,
    RetroactiveJobOut,
    RetroactiveResume,
)
from safeguard.web.state import AppState, app_state

router = APIRouter(prefix="/v1/lists", tags=["lists"])

Writer = Annotated[ApiKey, Depends(require(Scope.LISTS_WRITE))]
Admin = Annotated[ApiKey, Depends(require(Scope.ADMIN))]
State = Annotated[AppState, Depends(app_state)]

_FILE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def _threshold_warnings(threshold: int | None) -> list[str]:
    warning = None if threshold is None else check_pdq_threshold(threshold)
    return [warning] if warning else []


def _change(state: AppState, change: ListChange) -> ListChangeOut:
    admin = state.services.list_administration
    return ListChangeOut(
        hash_list=ListOut.of(change.hash_list, admin.webhook_url(change.hash_list.name)),
        written=change.written,
        retroactive=[RetroactiveHitOut.of(hit) for hit in change.retroactive],
        import_counts=(
            None
            if change.counts is None
            else ImportCountsOut.model_validate(change.counts.as_record())
        ),
        retroactive_job=(
            None if change.retroactive_job is None else RetroactiveJobOut.of(change.retroactive_job)
        ),
    )


_REQUEST_BATCHES = 1
"""Batches of past uploads a list change re-matches within its request; the server's
worker does the rest (see `RetroactiveJobs`)."""


@router.get("", response_model=list[ListOut], summary="Every list")
def all_lists(key: Writer, state: State) -> list[ListOut]:
    """Every list with its settings and entry count (no entries)."""
    admin = state.services.list_administration
    return [ListOut.of(hl, admin.webhook_url(hl.name)) for hl in admin.all_lists()]


@router.post("", response_model=ListWithSecret, status_code=201, summary="Create an empty list")
def create_list(body: ListCreate, key: Writer, state: State) -> ListWithSecret:
    """Create a list; when a webhook URL is given its signing secret is returned, once."""
    admin = state.services.list_administration
    stored, secret = admin.create_list(body.hash_list(), actor_of(key), body.webhook_url)
    return ListWithSecret(
        hash_list=ListOut.of(stored, admin.webhook_url(stored.name)),
        webhook_secret=secret,
        warnings=_threshold_warnings(body.pdq_threshold),
    )


@router.get("/{name}", response_model=ListOut, summary="One list")
def get_list(name: str, key: Writer, state: State) -> ListOut:
    """One list's settings."""
    admin = state.services.list_administration
    return ListOut.of(admin.get_list(name), admin.webhook_url(name))


@router.patch("/{name}", response_model=ListWithSecret, summary="Change a list's settings")
def update_list(name: str, body: ListUpdate, key: Writer, state: State) -> ListWithSecret:
    """Enable or disable, set the PDQ threshold, the actions, the webhook URL."""
    admin = state.services.list_administration
    hash_list, secret = admin.update_list(
        name,
        actor_of(key),
        enabled=body.enabled,
        pdq_threshold=body.pdq_threshold,
        actions=None if body.actions is None else ",".join(body.actions),
        webhook_url=body.webhook_url,
    )
    return ListWithSecret(
        hash_list=ListOut.of(hash_list, admin.webhook_url(name)),
        webhook_secret=secret,
        warnings=_threshold_warnings(body.pdq_threshold),
    )


@router.post(
    "/{name}/import",
    response_model=ListChangeOut,
    summary="Replace a list's entries from a list file (the body)",
    openapi_extra=_FILE_BODY,
)
async def import_list(
    name: str,
    request: Request,
    key: Writer,
    state: State,
    list_format: Annotated[
        str | None, Query(alias="format", description="vics, csv, hashdeep, md5sum, ...")
    ] = None,
) -> ListChangeOut:
    """Import a VICS, CSV, hashdeep or checksum file into the list, then re-match past uploads.

    NSRL RDS databases are registered in place from the command line
    (``safeguard lists import``); they cannot be uploaded here (422).
    """
    if (list_format or "").strip().lower() == "nsrl":
        # An NSRL list is queried where it lies; an uploaded one would live in a temporary
        # file deleted as soon as this request ends.
        raise HTTPException(
            422, "NSRL databases are registered in place with `safeguard lists import`"
        )
    data = await request.body()
    admin = state.services.list_administration

    def run() -> ListChange:
        # List readers take a path: the file lives in a private temporary folder only
        # while it is read. It holds hashes, never content.
        with tempfile.TemporaryDirectory(prefix="safeguard-list-") as folder:
            suffix = {"csv": ".csv", "vics": ".json", "hashdeep": ".txt"}.get(list_format or "", "")
            path = Path(folder) / f"upload{suffix}"
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
            return admin.import_file(name, path, actor_of(key), list_format, _REQUEST_BATCHES)

    return _change(state, await run_in_threadpool(run))


@router.post("/{name}/entries", response_model=ListChangeOut, summary="Add entries")
def add_entries(name: str, body: EntriesAdd, key: Writer, state: State) -> ListChangeOut:
    """Add (or replace by id) entries; past uploads are re-matched against them."""
    admin = state.services.list_administration
    change = admin.add_entries(
        name, [e.entry() for e in body.entries], actor_of(key), _REQUEST_BATCHES
    )
    return _change(state, change)


@router.delete("/{name}/entries", response_model=ListChangeOut, summary="Remove entries")
def remove_entries(name: str, body: EntriesRemove, key: Writer, state: State) -> ListChangeOut:
    """Remove entries by id; unknown ids are ignored."""
    admin = state.services.list_administration
    return _change(state, admin.remove_entries(name, body.entry_ids, actor_of(key)))


@router.delete(
    "/{name}/entries/{entry_id:path}", response_model=ListChangeOut, summary="Remove one entry"
)
def remove_entry(name: str, entry_id: str, key: Writer, state: State) -> ListChangeOut:
    """Remove one entry by id."""
    admin = state.services.list_administration
    return _change(state, admin.remove_entries(name, [entry_id], actor_of(key)))


@router.get(
    "/{name}/retroactive",
    response_model=list[RetroactiveJobOut],
    summary="The list's retroactive jobs",
)
def retroactive_jobs(name: str, key: Writer, state: State) -> list[RetroactiveJobOut]:
    """Re-matching of past uploads after entries were added to the list, newest first."""
    jobs = state.services.list_administration.retroactive_jobs
    return [RetroactiveJobOut.of(job) for job in jobs.jobs(name)]


def _job_of(state: AppState, name: str, job_id: int) -> None:
    job = state.services.list_administration.retroactive_jobs.get(job_id)
    if job.list_name != name:
        raise HTTPException(404, f"list {name!r} has no retroactive job {job_id}")


@router.get(
    "/{name}/retroactive/{job_id}",
    response_model=RetroactiveJobOut,
    summary="One retroactive job",
)
def retroactive_job(name: str, job_id: int, key: Writer, state: State) -> RetroactiveJobOut:
    """Where one job stands: its state, cursor, hits and why it is held."""
    _job_of(state, name, job_id)
    return RetroactiveJobOut.of(state.services.list_administration.retroactive_jobs.get(job_id))


@router.post(
    "/{name}/retroactive/{job_id}/resume",
    response_model=RetroactiveJobOut,
    summary="Resume a held retroactive job (admin)",
)
def resume_retroactive_job(
    name: str, job_id: int, key: Admin, state: State, body: RetroactiveResume | None = None
) -> RetroactiveJobOut:
    """Let a job held at its hit limit go on, with a new limit or none; audited.

    409 when the job is not held.
    """
    _job_of(state, name, job_id)
    jobs = state.services.list_administration.retroactive_jobs
    limit = None if body is None else body.hit_limit
    return RetroactiveJobOut.of(jobs.resume(job_id, actor_of(key), limit))


@router.post(
    "/{name}/retroactive/{job_id}/cancel",
    response_model=RetroactiveJobOut,
    summary="Cancel a retroactive job (admin)",
)
def cancel_retroactive_job(name: str, job_id: int, key: Admin, state: State) -> RetroactiveJobOut:
    """Stop a job that has not ended (a running one stops after its current batch); audited.

    409 when it has ended.
    """
    _job_of(state, name, job_id)
    jobs = state.services.list_administration.retroactive_jobs
    return RetroactiveJobOut.of(jobs.cancel(job_id, actor_of(key)))
