"""``/v1/intel``: the intelligence unit's API, over the same services as ``safeguard intel``.

Referrals in, ranked subjects, subject records, networks, links, merges, splits, facts
and band overrides.

Reading needs the ``intel:read`` scope and changing ``intel:write`` (``admin`` holds both).
Every change is audited with the key's holder as the actor. Records carry hashes and
identifiers, never images.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from safeguard.domain.intel.grading import Grading
from safeguard.domain.intel.priority import Band
from safeguard.domain.service import ApiKey, Scope
from safeguard.services.intel import records
from safeguard.web.auth import actor_of, require
from safeguard.web.state import AppState, app_state

router = APIRouter(prefix="/v1/intel", tags=["intelligence"])

Reader = Annotated[ApiKey, Depends(require(Scope.INTEL_READ))]
Writer = Annotated[ApiKey, Depends(require(Scope.INTEL_WRITE))]
State = Annotated[AppState, Depends(app_state)]
Record = dict[str, Any]

_REPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/xml": {"schema": {"type": "string", "format": "binary"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}


class RankedSubjectOut(BaseModel):
    """One row of the ranked subject list."""

    id: int
    label: str
    band: str = Field(description="The band in force (an override's, else the computed one).")
    computed_band: str
    overridden: bool
    score: int
    referrals: int
    network_id: int | None
    network_size: int


class RefusalOut(BaseModel):
    """A report not taken in: the file, the element and why."""

    source: str
    element: str
    reason: str


class IngestOut(BaseModel):
    """What an ingest did."""

    added: int
    unchanged: int
    refused: list[RefusalOut]
    subjects_created: int
    links: int | None
    too_common: int | None
    added_referrals: list[dict[str, Any]]


class Reason(BaseModel):
    """Why (kept in the audit log)."""

    reason: str = Field(min_length=1, max_length=2000)


class PairChange(Reason):
    """Two subjects and why."""

    subjects: tuple[int, int]


class MergeIn(Reason):
    """A merge: the absorbed subject goes into the survivor."""

    survivor: int
    absorbed: int


class OverrideIn(Reason):
    """An analyst's band."""

    band: str = Field(description="Low, Medium, High or Very High.")


class FactsIn(BaseModel):
    """Facts an analyst records; absent fields stay as they are."""

    occupation: str | None = None
    role_with_access_to_children: bool | None = None
    children_in_household: int | None = Field(default=None, ge=0)
    other_access_to_children: bool | None = None
    registered_sex_offender: bool | None = None
    prior_sexual_convictions: int | None = Field(default=None, ge=0)
    prior_other_convictions: int | None = Field(default=None, ge=0)
    contact_offence_history: bool | None = None


@router.post(
    "/referrals",
    response_model=IngestOut,
    summary="Ingest CyberTipline-shaped reports",
    openapi_extra=_REPORT_BODY,
)
async def ingest_referrals(
    request: Request,
    key: Writer,
    state: State,
    grading: Annotated[str, Query(description="3x5x2 grading, e.g. 2BP or 1AC.")] = "2CP",
    conditions: Annotated[str, Query(description="Handling conditions (with C).")] = "",
) -> IngestOut:
    """Take in XML (one ``<report>`` or many) or JSON reports.

    Malformed reports are refused with the element and the reason; the rest are taken in.
    The same report twice changes nothing.
    """
    data = await request.body()
    suffix = ".json" if "json" in request.headers.get("content-type", "") else ".xml"
    parsed = Grading.parse(grading, conditions)

    def run() -> IngestOut:
        with tempfile.TemporaryDirectory(prefix="safeguard-referral-") as folder:
            path = Path(folder) / f"upload{suffix}"
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
            outcome = state.services.intel_intake.ingest_files(
                [path], actor=actor_of(key), grading=parsed
            )
        record = records.ingest_record(outcome)
        for refusal in record["refused"]:
            refusal["source"] = "request body"
        return IngestOut(**record)

    return await run_in_threadpool(run)


@router.get("/subjects", response_model=list[RankedSubjectOut], summary="Ranked subjects")
def ranked_subjects(
    key: Reader,
    state: State,
    band: str | None = None,
    min_band: str | None = None,
    overridden: bool | None = None,
    network: int | None = None,
    search: str = "",
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> list[RankedSubjectOut]:
    """Subjects by band in force, then score; filter by band, network, override or label."""
    rows = state.services.intel_subjects.ranked(
        band=Band.parse(band) if band else None,
        min_band=Band.parse(min_band) if min_band else None,
        overridden=overridden,
        network_id=network,
        search=search,
        limit=limit,
    )
    return [RankedSubjectOut(**records.ranked_record(row)) for row in rows]


class SubjectIn(Reason):
    """A subject an analyst opens."""

    label: str = Field(min_length=1, max_length=500)


@router.post("/subjects", summary="Open a subject", status_code=201)
def open_subject(body: SubjectIn, key: Writer, state: State) -> Record:
    """An analyst opens a subject (a suspect known before any referral); audited."""
    made = state.services.intel_subjects.create(body.label, actor_of(key), body.reason)
    return records.subject_record(made)


@router.get("/subjects/{subject_id}", summary="One subject, everything about it")
def subject(subject_id: int, key: Reader, state: State) -> Record:
    """Priority with every factor and its tool, overrides, identifiers and referrals.

    Referrals carry their grading and files with list matches; also exhibits, links with
    evidence, the network, merges and the audit trail.
    """
    return records.full_subject_record(state.services.intel_subjects.record(subject_id))


@router.get("/subjects/{subject_id}/network", summary="The subject's network")
def network(subject_id: int, key: Reader, state: State) -> Record:
    """Members and every link among them, with what they share, weight and evidence."""
    return records.network_record(state.services.intel_links.network_of(subject_id))


@router.get("/networks", summary="Networks")
def list_networks(
    key: Reader,
    state: State,
    min_size: Annotated[int, Query(ge=2)] = 2,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> list[Record]:
    """Every network, biggest first: members and the links among them."""
    found = state.services.intel_links.networks(min_size=min_size)[:limit]
    return [records.network_record(n) for n in found]


@router.patch("/subjects/{subject_id}/facts", summary="Record analyst facts")
def record_facts(subject_id: int, body: FactsIn, key: Writer, state: State) -> Record:
    """Record occupation, access to children, convictions...; the band is recomputed."""
    changes = body.model_dump(exclude_none=True)
    services = state.services
    services.intel_subjects.record_facts(subject_id, actor_of(key), **changes)
    return records.priority_record(services.intel_priorities.priority(subject_id))


@router.put("/subjects/{subject_id}/override", summary="Override the band")
def override_band(subject_id: int, body: OverrideIn, key: Writer, state: State) -> Record:
    """Set the band by hand with a reason; the computed band is kept beside it."""
    priorities = state.services.intel_priorities
    priorities.override(subject_id, Band.parse(body.band), actor_of(key), body.reason)
    return records.priority_record(priorities.priority(subject_id))


@router.post("/subjects/{subject_id}/override/withdraw", summary="Withdraw an override")
def withdraw_override(subject_id: int, body: Reason, key: Writer, state: State) -> Record:
    """The computed band is in force again."""
    priorities = state.services.intel_priorities
    priorities.clear_override(subject_id, actor_of(key), body.reason)
    return records.priority_record(priorities.priority(subject_id))


@router.post("/links", summary="Link two subjects")
def link_subjects(body: PairChange, key: Writer, state: State) -> Record:
    """An analyst link (weight 1), with why."""
    first, second = body.subjects
    return records.link_record(
        state.services.intel_links.link(first, second, actor_of(key), body.reason)
    )


@router.post("/unlinks", summary="Unlink two subjects")
def unlink_subjects(body: PairChange, key: Writer, state: State) -> Record:
    """Computed links between the two stop counting for networks; analyst links go."""
    first, second = body.subjects
    made = state.services.intel_links.unlink(first, second, actor_of(key), body.reason)
    return {"subjects": [made.subject_a, made.subject_b], "by": made.by, "reason": made.reason}


@router.post("/merges", summary="Merge two subjects")
def merge_subjects(body: MergeIn, key: Writer, state: State) -> Record:
    """Reversible: split it again with ``/merges/{id}/split``."""
    made = state.services.intel_subjects.merge(
        body.survivor, body.absorbed, actor_of(key), body.reason
    )
    return records.merge_record(made)


@router.post("/merges/{merge_id}/split", summary="Split a merge")
def split_merge(merge_id: int, body: Reason, key: Writer, state: State) -> Record:
    """Undo a merge exactly; 409 when already split or a later merge builds on it."""
    return records.merge_record(
        state.services.intel_subjects.split(merge_id, actor_of(key), body.reason)
    )
