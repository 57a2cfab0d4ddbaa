"""A webhook receiver on loopback that fails twice before succeeding, and checks signatures."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from safeguard.services.platform.webhook_delivery import (
    SIGNATURE_HEADER,
    WebhookDispatcher,
    verify_signature,
)
from safeguard.services.platform.webhook_sending import CheckedSender
from tests.web.conftest import ApiClient


class Receiver:
    """Answers 503 to the first `failures` POSTs, then 200, recording each."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.received: list[tuple[bytes, dict[str, str]]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.received.append((body, dict(self.headers.items())))
                    failing = len(receiver.received) <= receiver.failures
                self.send_response(503 if failing else 200)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver(failures=2) as running:
        yield running


def test_webhook_fails_twice_then_delivers_signed(api: ApiClient, receiver: Receiver) -> None:
    services = api.services
    dispatcher = WebhookDispatcher(
        services.service_store,
        send=CheckedSender(services.webhook_policy),
        base_delay=0.1,
        poll_interval=0.05,
        timeout=2.0,
    )
    services.service_actions.set_webhook_listener(dispatcher.wake)
    dispatcher.start()
    try:
        created = api.post(
            "/v1/lists",
            json={"name": "hooked", "actions": ["webhook"], "webhook_url": receiver.url},
        ).json()
        secret = created["webhook_secret"]
        assert secret
        assert api.get("/v1/lists/hooked").json()["webhook_url"] == receiver.url
        api.post(
            "/v1/lists/hooked/entries", json={"entries": [{"entry_id": "w1", "md5": "6" * 32}]}
        )
        started = time.monotonic()
        answer = api.post("/v1/match", json={"md5": "6" * 32, "content_id": "post-77"})
        assert answer.json()["actions"] == ["webhook"]
        # the answer does not wait for the webhook
        assert time.monotonic() - started < 1.0
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            [delivery] = api.get("/v1/webhooks/deliveries").json()
            if delivery["state"] == "delivered":
                break
            time.sleep(0.05)
    finally:
        dispatcher.stop()
    assert delivery["state"] == "delivered"
    assert delivery["attempts"] == 3
    assert len(receiver.received) == 3
    for body, headers in receiver.received:
        assert verify_signature(secret, headers[SIGNATURE_HEADER], body)
    payload = json.loads(receiver.received[-1][0])
    assert payload["content_id"] == "post-77"
    assert payload["list_name"] == "hooked"
    assert payload["matches"][0]["entry_id"] == "w1"


def test_pending_deliveries_survive_a_restart(api: ApiClient, receiver: Receiver) -> None:
    api.post(
        "/v1/lists", json={"name": "hooked", "actions": ["webhook"], "webhook_url": receiver.url}
    )
    api.post("/v1/lists/hooked/entries", json={"entries": [{"entry_id": "w1", "sha1": "7" * 40}]})
    api.post("/v1/match", json={"sha1": "7" * 40})
    # nothing was sent in-line; a dispatcher started later (a new process) finds the delivery
    assert receiver.received == []
    later = WebhookDispatcher(
        api.services.service_store,
        send=CheckedSender(api.services.webhook_policy),
        base_delay=0.01,
    )
    for _ in range(3):
        later.run_due()
        time.sleep(0.05)
    assert [d["state"] for d in api.get("/v1/webhooks/deliveries").json()] == ["delivered"]
