"""`WebhookDispatcher`: signed deliveries, retried with back-off, given up after the last try."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from safeguard.domain.service import DeliveryState, WebhookTarget
from safeguard.services.platform.webhook_delivery import (
    SIGNATURE_HEADER,
    WebhookDispatcher,
    sign_body,
    verify_signature,
)
from tests.unit.services.service_stack import ServiceStack, bad_list, build_stack, entry


class FlakyReceiver:
    """Answers 500 `failures` times, then 204; records what it was sent."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[tuple[str, bytes, dict[str, str]]] = []

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> int:
        self.calls.append((url, body, dict(headers)))
        if len(self.calls) <= self.failures:
            return 500
        return 204


@pytest.fixture
def stack() -> ServiceStack:
    stack = build_stack()
    stack.admin.create_list(bad_list(actions="webhook"), "t", webhook_url="http://127.0.0.1:9/hook")
    stack.admin.add_entries("bad", [entry("e1", md5="d" * 32)], "t")
    return stack


def test_webhook_retries_with_back_off_then_delivers(stack: ServiceStack) -> None:
    receiver = FlakyReceiver(failures=2)
    dispatcher = WebhookDispatcher(stack.store, send=receiver, clock=stack.clock, base_delay=2.0)
    stack.matching.match_hashes({"md5": "d" * 32})
    assert dispatcher.run_due() == 1
    assert dispatcher.run_due() == 0  # not due yet: back-off
    stack.clock.advance(2.3)
    assert dispatcher.run_due() == 1
    stack.clock.advance(2.3)
    assert dispatcher.run_due() == 0  # the second wait is twice as long
    stack.clock.advance(2.3)
    assert dispatcher.run_due() == 1
    [delivery] = stack.store.list_deliveries()
    assert delivery.state is DeliveryState.DELIVERED
    assert delivery.attempts == 3
    secret = stack.store.get_webhook_target("bad")
    assert isinstance(secret, WebhookTarget)
    for _url, body, headers in receiver.calls:
        assert verify_signature(secret.secret, headers[SIGNATURE_HEADER], body)
        assert not verify_signature("wrong", headers[SIGNATURE_HEADER], body)


def test_webhook_gives_up_after_max_attempts(stack: ServiceStack) -> None:
    receiver = FlakyReceiver(failures=99)
    dispatcher = WebhookDispatcher(
        stack.store, send=receiver, clock=stack.clock, base_delay=1.0, max_attempts=3
    )
    stack.matching.match_hashes({"md5": "d" * 32})
    for _ in range(3):
        dispatcher.run_due()
        stack.clock.advance(10)
    [delivery] = stack.store.list_deliveries()
    assert delivery.state is DeliveryState.FAILED
    assert delivery.last_error == "HTTP 500"
    assert len(receiver.calls) == 3


def test_unreachable_receiver_is_retried(stack: ServiceStack) -> None:
    def refuse(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> int:
        raise ConnectionRefusedError

    dispatcher = WebhookDispatcher(stack.store, send=refuse, clock=stack.clock)
    stack.matching.match_hashes({"md5": "d" * 32})
    dispatcher.run_due()
    [delivery] = stack.store.list_deliveries()
    assert delivery.state is DeliveryState.PENDING
    assert delivery.last_error == "ConnectionRefusedError"


def test_back_off_doubles_and_is_capped() -> None:
    dispatcher = WebhookDispatcher(store=build_stack().store, base_delay=1.0, max_delay=5.0)
    assert [dispatcher.delay_after(n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]


def test_signature_is_hmac_of_timestamp_and_body() -> None:
    header = sign_body("s", 1700000000, b"{}")
    assert header.startswith("t=1700000000,v1=")
    assert verify_signature("s", header, b"{}", now=1700000000 + 299)
    assert not verify_signature("s", header, b"{ }", now=1700000000)
    assert not verify_signature("s", "garbage", b"{}", now=1700000000)
    # Outside the replay window a captured delivery is refused.
    assert not verify_signature("s", header, b"{}", now=1700000000 + 301)
    assert not verify_signature("s", header, b"{}", now=1700000000 - 301)
