"""HMA 2.0's curator routes: ``/c/banks``, ``/c/bank/<name>`` and its content and signals.

A bank is a Safeguard list (known-bad, made through `ListAdministration` so every change is
audited and past uploads are re-matched); bank content is a list entry. HMA numbers content
with integers: content added here gets a random 53-bit id as its entry id, other entries are
numbered by `content_id`. What Safeguard cannot do is refused with a message: fractional
``enabled_ratio`` (lists are enabled or not), renaming, and per-content ``disable_until_ts``.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.errors import ConfigurationError, InvalidDigestError, NotFoundError
from safeguard.domain.hash_lists import HashEntry, HashList, ListKind, Provenance
from safeguard.domain.service import Scope
from safeguard.web.hma.access import guard
from safeguard.web.hma.matching import form_fields, hash_form
from safeguard.web.hma.signals import SIGNAL_NAME, HmaError, content_id, signal_value
from safeguard.web.state import AppState, app_state

State = Annotated[AppState, Depends(app_state)]

_ID_SPACE = 2**53
_NOTE_LIMIT = 255  # HMA's own limit on a content note


def _bank(hash_list: HashList) -> dict[str, object]:
    return {"name": hash_list.name, "matching_enabled_ratio": 1.0 if hash_list.enabled else 0.0}


def _actor(request: Request) -> str:
    return str(getattr(request.state, "hma_actor", "hma"))


def _enabled_from(body: Mapping[str, Any]) -> bool | None:
    ratio = body.get("enabled_ratio")
    if ratio is not None:
        if ratio not in (0, 1, 0.0, 1.0) or isinstance(ratio, bool):
            raise HmaError(
                400,
                "Safeguard lists are enabled or disabled: enabled_ratio must be 0 or 1 "
                "(a sampled bank is not supported)",
            )
        return bool(ratio)
    enabled = body.get("enabled")
    return None if enabled is None else bool(enabled)


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError as exc:
        raise HmaError(400, "this endpoint expects a json object payload") from exc
    if not isinstance(body, dict):
        raise HmaError(400, "this endpoint expects a json object payload")
    return body


def _get_bank(state: AppState, name: str) -> HashList:
    try:
        return state.services.list_administration.get_list(name)
    except NotFoundError as exc:
        raise HmaError(404, f"bank '{name}' not found") from exc


def _note(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise HmaError(400, "note should be a string")
    if len(value) > _NOTE_LIMIT:
        raise HmaError(400, f"note must be at most {_NOTE_LIMIT} characters")
    return value


def _add_signals(
    state: AppState,
    request: Request,
    bank: HashList,
    signals: Mapping[str, object],
    note: str | None,
    metadata: Mapping[str, Any] | None,
) -> dict[str, object]:
    if not signals:
        raise HmaError(400, "No signals given")
    digests: dict[HashAlgorithm, str] = {}
    for name, value in signals.items():
        algorithm, canonical = signal_value(name, str(value))
        digests[algorithm] = canonical
    new_id = str(secrets.randbelow(_ID_SPACE))
    notes = [f"note: {note}" if note else None]
    if metadata:
        notes.append("metadata: " + json.dumps(metadata, sort_keys=True))
    record_id = metadata.get("content_id") if metadata else None
    entry = HashEntry(
        entry_id=new_id,
        digests=digests,
        provenance=Provenance(
            source_record_id=None if record_id is None else str(record_id),
            notes="\n".join(n for n in notes if n) or None,
        ),
    )
    try:
        # One batch of past uploads in the request; the server's worker does the rest.
        state.services.list_administration.add_entries(
            bank.name, [entry], _actor(request), retroactive_batches=1
        )
    except InvalidDigestError as exc:
        raise HmaError(400, f"Invalid signal: {exc}") from exc
    return {"id": int(new_id), "signals": {SIGNAL_NAME[a]: v for a, v in digests.items()}}


def _find(state: AppState, bank: HashList, wanted: int) -> HashEntry:
    for entry in state.services.list_administration.entries(bank.name):
        if content_id(bank.name, entry.entry_id) == wanted:
            return entry
    raise HmaError(404, f"content '{wanted}' not found")


def curation_router(mode: str) -> APIRouter:
    """The ``/c`` routes guarded for `mode` (``lists:write`` scope when keys are required)."""
    router = APIRouter(
        prefix="/c", tags=["hma"], dependencies=[Depends(guard(mode, Scope.LISTS_WRITE))]
    )

    @router.get("/banks", summary="HMA: every bank")
    def banks(state: State) -> list[dict[str, object]]:
        """Every list as an HMA bank."""
        return [_bank(hl) for hl in state.services.list_administration.all_lists()]

    @router.post("/banks", status_code=201, summary="HMA: create a bank")
    async def create_bank(request: Request, state: State) -> dict[str, object]:
        """A new, empty known-bad list."""
        body = await _json_object(request)
        name = body.get("name")
        if not isinstance(name, str) or not name:
            raise HmaError(400, "name is required")
        enabled = _enabled_from(body)
        admin = state.services.list_administration
        hash_list = HashList(name=name, kind=ListKind.KNOWN_BAD, source="HMA API")
        try:
            stored, _ = await run_in_threadpool(admin.create_list, hash_list, _actor(request))
        except ConfigurationError as exc:
            raise HmaError(403, "Bank already exists") from exc
        if enabled is False:
            stored, _ = await run_in_threadpool(
                lambda: admin.update_list(name, _actor(request), enabled=False)
            )
        return _bank(stored)

    @router.get("/bank/{bank_name}", summary="HMA: one bank")
    def get_bank(bank_name: str, state: State) -> dict[str, object]:
        """The bank, or 404."""
        return _bank(_get_bank(state, bank_name))

    @router.put("/bank/{bank_name}", summary="HMA: enable or disable a bank")
    async def update_bank(bank_name: str, request: Request, state: State) -> dict[str, object]:
        """Enable or disable; a rename is refused (list names are kept in results)."""
        _get_bank(state, bank_name)
        body = await _json_object(request)
        if body.get("name") not in (None, bank_name):
            raise HmaError(400, "Safeguard does not rename lists; create a new bank instead")
        enabled = _enabled_from(body)
        admin = state.services.list_administration
        if enabled is None:
            return _bank(admin.get_list(bank_name))
        stored, _ = await run_in_threadpool(
            lambda: admin.update_list(bank_name, _actor(request), enabled=enabled)
        )
        return _bank(stored)

    @router.delete("/bank/{bank_name}", summary="HMA: delete a bank")
    def delete_bank(bank_name: str, request: Request, state: State) -> dict[str, str]:
        """Delete the list and its entries."""
        _get_bank(state, bank_name)
        state.services.list_administration.remove_list(bank_name, _actor(request))
        return {"message": "Done"}

    @router.post("/bank/{bank_name}/content", summary="HMA: add an uploaded file to a bank")
    async def add_content(bank_name: str, request: Request, state: State) -> dict[str, object]:
        """Hash the one file of the form and add its signals as one entry.

        The form's ``metadata`` (a JSON object: ``content_id``, ``content_uri``, ``json``) and
        ``note`` fields are kept in the entry's provenance, as HMA keeps them.
        """
        bank = _get_bank(state, bank_name)
        if request.query_params.get("url"):
            raise HmaError(400, "Safeguard does not fetch URLs; upload the file instead")
        fields = await form_fields(request)
        metadata: dict[str, Any] | None = None
        raw = fields.get("metadata")
        if raw:
            try:
                metadata = json.loads(raw)
            except ValueError as exc:
                raise HmaError(400, "metadata form field must be valid JSON") from exc
            if not isinstance(metadata, dict):
                raise HmaError(400, "metadata should be a json object")
            metadata.pop("collab", None)  # provenance of exchanges, set by HMA itself
        note = _note(fields.get("note"))
        signals = await hash_form(request, state, request.query_params.get("types"))
        return await run_in_threadpool(_add_signals, state, request, bank, signals, note, metadata)

    @router.post("/bank/{bank_name}/signal", summary="HMA: add hashes to a bank")
    async def add_signal(bank_name: str, request: Request, state: State) -> dict[str, object]:
        """``{"pdq": "...", "note": "..."}``: the signals become one entry."""
        bank = _get_bank(state, bank_name)
        body = await _json_object(request)
        note = _note(body.pop("note", None))
        return await run_in_threadpool(_add_signals, state, request, bank, body, note, None)

    @router.get("/bank/{bank_name}/content/{content}", summary="HMA: one piece of bank content")
    def get_content(
        bank_name: str,
        content: int,
        state: State,
        include_signals: bool = False,
    ) -> dict[str, object]:
        """HMA's content record; ``include_signals=true`` adds the hashes."""
        bank = _get_bank(state, bank_name)
        entry = _find(state, bank, content)
        answer: dict[str, object] = {
            "id": content,
            "disable_until_ts": 1,  # HMA's "enabled"
            "original_media_uri": None,
            "bank": _bank(bank),
        }
        if include_signals:
            answer["signals"] = {
                SIGNAL_NAME[a]: v for a, v in entry.digests.items() if a in SIGNAL_NAME
            }
        if entry.provenance.notes:
            answer["note"] = entry.provenance.notes
        return answer

    @router.put("/bank/{bank_name}/content/{content}", summary="HMA: disable content (refused)")
    def update_content(bank_name: str, content: int, state: State) -> JSONResponse:
        """Safeguard cannot disable one entry for a while: remove it, or disable the list."""
        _find(state, _get_bank(state, bank_name), content)
        raise HmaError(
            400,
            "Safeguard does not disable single entries (disable_until_ts); delete the content "
            "or disable the bank",
        )

    @router.delete("/bank/{bank_name}/content/{content}", summary="HMA: remove content")
    def delete_content(
        bank_name: str, content: int, request: Request, state: State
    ) -> dict[str, int]:
        """``{"deleted": n}``."""
        bank = _get_bank(state, bank_name)
        try:
            entry = _find(state, bank, content)
        except HmaError:
            return {"deleted": 0}
        change = state.services.list_administration.remove_entries(
            bank.name, [entry.entry_id], _actor(request)
        )
        return {"deleted": change.written}

    return router
