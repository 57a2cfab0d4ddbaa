"""Every other class of hostile request against the real server: the bounded answer, no 500.

Anonymous bodies, methods, NUL characters, deep JSON, media types, list and entry names,
webhook destinations, metrics, slow headers, and what the logs keep.
"""

from __future__ import annotations

import json
import random
import socket
import string
import time

import httpx
import pytest

from tests.web.hostile.conftest import Served, peak_rss_mb
from tests.web.hostile.probes import HealthProbe, assert_health_kept, baseline

pytestmark = pytest.mark.slow  # real servers: about a minute to start on a busy box

PERSONAL = ("192.0.2.77", "uploader-5521", "drama.person@example.com", "beach-2209.jpg")


def _raw(served: Served, head: str, body: bytes = b"", read_timeout: float = 10) -> bytes:
    with socket.create_connection(("127.0.0.1", served.port), timeout=read_timeout) as sock:
        sock.sendall(head.encode() + body)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
                if b"\r\n\r\n" in answer and b"content-length" in answer.lower():
                    head_part, _, rest = answer.partition(b"\r\n\r\n")
                    length = next(
                        int(line.split(b":")[1])
                        for line in head_part.lower().split(b"\r\n")
                        if line.startswith(b"content-length")
                    )
                    if len(rest) >= length:
                        break
        except (ConnectionResetError, TimeoutError):
            pass
    return answer


@pytest.fixture(scope="module")
def client(served: Served) -> httpx.Client:
    with httpx.Client(base_url=served.base, headers=served.headers, timeout=30) as running:
        running.post("/v1/lists", json={"name": "h", "actions": ["block"]})
        yield running


def test_anonymous_bodies_are_capped_unread(served: Served) -> None:
    workers = served.workers()
    calm = baseline(served.port)
    with HealthProbe(served.port) as probe:
        started = time.perf_counter()
        # A 49 MiB sign-in form is refused from its declared length, before any is read.
        answer = _raw(
            served,
            "POST /ui/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded"
            f"\r\nContent-Length: {49 * 1024 * 1024}\r\n\r\n",
            b"a=1&" * 1024,
        )
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        # Without a length (chunked), it is cut off a few KB in.
        chunk = b"a=1&" * 4096
        chunked = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        answer = _raw(
            served,
            "POST /v1/lists HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
            chunked * 4 + b"0\r\n\r\n",
        )
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert time.perf_counter() - started < 2
    assert_health_kept(probe, calm)
    assert served.workers() == workers


def test_big_authenticated_multipart_is_parsed_off_the_event_loop(served: Served) -> None:
    workers = served.workers()
    calm = baseline(served.port)
    parts = [
        ("files", (f"f{i}.bin", b"\x01" * (2 * 1024 * 1024), "application/octet-stream"))
        for i in range(10)
    ]
    with HealthProbe(served.port) as probe:
        answer = httpx.post(
            f"{served.base}/v1/hash/batch", files=parts, headers=served.headers, timeout=60
        )
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["items"]) == 10
    assert_health_kept(probe, calm)
    assert served.workers() == workers
    for pid in workers:
        assert peak_rss_mb(pid) < 500


def test_no_input_gets_a_500(served: Served, client: httpx.Client) -> None:
    codes: dict[str, int] = {}

    def check(label: str, answer: httpx.Response, *expected: int) -> None:
        codes[label] = answer.status_code
        assert answer.status_code < 500 or answer.status_code == 503, (label, answer.text)
        if expected:
            assert answer.status_code in expected, (label, answer.status_code, answer.text)

    rng = random.Random(5)
    for _ in range(40):
        method = "".join(rng.choice(string.ascii_uppercase) for _ in range(12))
        # The HTTP parser (httptools) refuses names that are no HTTP method (400); a real
        # method the API does not use reaches the request gate (405).
        check("method", client.request(method, "/v1/match"), 400, 405)
    check("webdav method", client.request("PROPFIND", "/v1/match"), 405)
    metrics = client.get("/metrics", headers={"Authorization": "Bearer metrics-test-token"})
    assert metrics.status_code == 200
    assert len(metrics.text) < 64 * 1024
    check("anonymous metrics", httpx.get(f"{served.base}/metrics"), 401)
    # NUL characters: query, JSON fields, entry ids, path.
    check("nul query", client.post("/v1/match?user_id=a%00b", content=b"x"), 422)
    check("nul json", client.post("/v1/match", json={"md5": "0" * 32, "user_id": "a\0b"}), 422)
    check(
        "nul entry",
        client.post(
            "/v1/lists/h/entries", json={"entries": [{"entry_id": "a\0", "md5": "1" * 32}]}
        ),
        422,
    )
    check("nul path", client.delete("/v1/lists/h/entries/a%00b"), 422)
    # 100,000-deep JSON.
    deep = b"[" * 100_000 + b"]" * 100_000
    headers = {"Content-Type": "application/json"}
    check("deep match", client.post("/v1/match", content=deep, headers=headers), 422)
    check("deep lists", client.post("/v1/lists", content=deep, headers=headers), 400, 422)
    # Media types are case-insensitive; text/json is JSON too.
    for kind in ("Application/JSON", "text/json", "application/json; charset=UTF-8"):
        answer = client.post(
            "/v1/match", content=json.dumps({"md5": "2" * 32}), headers={"Content-Type": kind}
        )
        check(kind, answer, 200)
        assert answer.json()["hashes"]["md5"] == "2" * 32, kind
    # List names and entry ids.
    for name in (".", ".."):
        check(f"list {name}", client.post("/v1/lists", json={"name": name}), 422)
    client.post("/v1/lists/h/entries", json={"entries": [{"entry_id": "a/b", "md5": "3" * 32}]})
    removed = client.delete("/v1/lists/h/entries/a/b")
    check("slash id", removed, 200)
    assert removed.json()["written"] == 1
    check("nsrl upload", client.post("/v1/lists/h/import?format=nsrl", content=b"x"), 422)
    # Webhook destinations: refused, never stored, never echoed.
    for url in (
        "http://a b/",
        "http://127.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://[::1]/",
        "http://10.1.2.3/",
        "http://metadata.google.internal/",
        "http://user:secret@192.0.2.10/",
        "ftp://192.0.2.10/",
    ):
        check(url, client.patch("/v1/lists/h", json={"webhook_url": url}), 400)
    assert "secret" not in client.get("/v1/lists/h").text
    check("webhook removed", client.patch("/v1/lists/h", json={"webhook_url": ""}), 200)
    assert client.get("/v1/lists/h").json()["webhook_url"] is None
    check(
        "unknown token",
        httpx.post(
            f"{served.base}/v1/match",
            json={"md5": "0" * 32},
            headers={"Authorization": "Bearer sg_nope_nope"},
        ),
        401,
    )
    # Personal context on an ordinary match: never in the logs.
    ip, user, screen, file_name = PERSONAL
    check(
        "personal",
        client.post(
            "/v1/match",
            json={
                "md5": "4" * 32,
                "ip_address": ip,
                "user_id": user,
                "screen_name": screen,
                "file_name": file_name,
            },
        ),
        200,
    )
    page = httpx.get(f"{served.base}/ui/login")
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    logged = served.log_text()
    for value in PERSONAL:
        assert value not in logged
    assert "Traceback" not in logged


def test_slow_headers_are_cut_off(served: Served) -> None:
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
        started = time.monotonic()
        assert sock.recv(1024) == b""  # closed by the server
        assert time.monotonic() - started < 5  # the test server's 2 s head deadline
