"""When the store fails: the answer still comes from the index, and logs hold nothing personal.

In-process, on SQLite and on the live PostgreSQL server.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.service import Scope, SeenUpload, UploadContext
from tests.web.conftest import ApiClient

PERSONAL = {
    "ip_address": "192.0.2.201",
    "user_id": "uploader-7731",
    "screen_name": "drama.person@example.com",
    "file_name": "holiday-0815.jpg",
}
DIGEST = "7" * 32


def _break_seen_uploads(api: ApiClient) -> None:
    with api.services.engine.begin() as conn:
        conn.execute(text("ALTER TABLE service_seen_uploads RENAME TO service_seen_uploads_gone"))


def _mend_seen_uploads(api: ApiClient) -> None:
    with api.services.engine.begin() as conn:
        conn.execute(text("ALTER TABLE service_seen_uploads_gone RENAME TO service_seen_uploads"))


def test_a_failing_store_still_answers_from_the_index_and_logs_nothing_personal(
    any_api: ApiClient, caplog: pytest.LogCaptureFixture
) -> None:
    api = any_api
    api.post("/v1/lists", json={"name": "bad", "actions": ["block", "report"]})
    api.post("/v1/lists/bad/entries", json={"entries": [{"entry_id": "e1", "md5": DIGEST}]})
    caplog.set_level(logging.DEBUG)
    _break_seen_uploads(api)
    try:
        answer = api.post("/v1/match", json={"md5": DIGEST, **PERSONAL}, scope=Scope.MATCH)
        assert answer.status_code == 200
        body = answer.json()
        assert body["known"] is True
        assert body["block"] is True  # the list's block action needs no store
        assert body["upload_id"] is None  # recorded later
        assert api.services.upload_matching.deferred_records == 1
        # A forced database error's own text hides the statement's parameters too.
        upload = SeenUpload(
            received_at=datetime.now(UTC),
            digests={HashAlgorithm.MD5: DIGEST},
            context=UploadContext(**PERSONAL),
        )
        with pytest.raises(SQLAlchemyError) as failure:
            api.services.service_store.add_seen(upload, None)
        logging.getLogger("test").error("store failed: %s", failure.value)
    finally:
        _mend_seen_uploads(api)
    assert api.services.upload_matching.record_deferred() == 1
    assert api.services.upload_matching.deferred_records == 0
    reports = api.get("/v1/reports?status=pending", scope=Scope.REPORTS_REVIEW).json()
    assert len(reports) == 1
    logged = caplog.text + str(failure.value)
    assert "hidden due to hide_parameters" in str(failure.value)
    for value in (*PERSONAL.values(), DIGEST):
        assert value not in logged, value
