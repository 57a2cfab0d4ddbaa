from __future__ import annotations

import json

import pytest

from safeguard.domain.service import DeliveryState, UploadContext
from safeguard.services.platform.actions import industry_classification
from tests.unit.services.service_stack import ServiceStack, bad_list, build_stack, entry


@pytest.fixture
def stack() -> ServiceStack:
    stack = build_stack()
    stack.admin.create_list(bad_list(actions="webhook"), "t", webhook_url="http://127.0.0.1:9/hook")
    stack.admin.add_entries("bad", [entry("e1", md5="d" * 32)], "t")
    return stack


def test_webhook_is_queued_not_sent_inline(stack: ServiceStack) -> None:
    woken: list[bool] = []
    stack.actions.set_webhook_listener(lambda: woken.append(True))
    result = stack.matching.match_hashes({"md5": "d" * 32}, context=UploadContext(content_id="c7"))
    assert result.outcome.actions == ["webhook"]
    [delivery] = stack.store.list_deliveries()
    assert delivery.state is DeliveryState.PENDING
    assert woken == [True]
    body = json.loads(delivery.body)
    assert body["content_id"] == "c7"
    assert body["matches"][0]["entry_id"] == "e1"
    assert "ip_address" not in delivery.body


def test_industry_classification_only_from_industry_scheme() -> None:
    stack = build_stack()
    stack.admin.create_list(bad_list(actions="report"), "t")
    stack.admin.add_entries("bad", [entry("e1", md5="e" * 32)], "t")
    result = stack.matching.match_hashes({"md5": "e" * 32})
    assert industry_classification(result.matches) == "A2"
    assert industry_classification(()) is None
