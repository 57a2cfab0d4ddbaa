"""Packages for systems: JSON listing and documents, for signed-in users (session cookie).

The same scoping as the pages: a force's users get only their force's disseminated
packages; any other reference answers 404, exactly as a package that does not exist.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from safeguard.domain.package_access import viewer_of
from safeguard.web.people import CurrentUser, State

router = APIRouter(prefix="/v1/packages", tags=["packages"])


@router.get("")
async def list_packages(state: State, signed: CurrentUser) -> list[dict[str, Any]]:
    """Packages the signed-in user may see, newest first (401 without a session)."""
    viewer = viewer_of(signed.user)
    packages = await run_in_threadpool(state.services.packages.listing, viewer)
    return [
        {
            "reference": p.reference,
            "subject_reference": p.subject_reference,
            "band": p.band,
            "destination": p.destination,
            "state": p.state.value,
            "version": p.version,
            "issued_at": p.issued_at.isoformat() if p.issued_at else None,
            "due_at": p.due_at.isoformat() if p.due_at else None,
        }
        for p in packages
    ]


@router.get("/{reference}")
async def package_document(
    reference: str, state: State, signed: CurrentUser, version: int | None = None
) -> Response:
    """One version of a package as its JSON document (audited); 404 if not yours."""
    _view, body, media = await run_in_threadpool(
        state.services.package_documents.document,
        viewer_of(signed.user),
        reference,
        "json",
        version,
    )
    return Response(body, media_type=media)
