"""Issue 12 item 9: /docs and /redoc work with no internet: every asset comes from the service."""

from __future__ import annotations

import re
from pathlib import Path

from tests.web.conftest import ApiClient


def test_docs_pages_load_every_asset_from_the_service(api: ApiClient) -> None:
    for page in ("/docs", "/redoc"):
        answer = api.get(page, scope=None)
        assert answer.status_code == 200, page
        html = answer.text
        urls = re.findall(r"""(?:src|href)=["']([^"']+)["']|url: ?["']([^"']+)["']""", html)
        referenced = [a or b for a, b in urls]
        assert referenced, page
        assert not [u for u in referenced if "://" in u or u.startswith("//")], referenced
        assert "fonts.googleapis" not in html
        assert "cdn.jsdelivr" not in html
        for url in referenced:
            if url.startswith("/docs-assets/"):
                asset = api.get(url, scope=None)
                assert asset.status_code == 200, url
                assert len(asset.content) > 1000, url


def test_swagger_ui_renders_in_chromium_with_the_internet_unreachable(tmp_path: Path) -> None:
    import socket
    import subprocess
    import threading
    import time

    import uvicorn

    from safeguard.bootstrap import build_services
    from safeguard.web.app import create_app
    from tests.integration.browser_tools import chromium_args
    from tests.web.conftest import service_settings

    services = build_services(service_settings(tmp_path))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(services, background=False), host="127.0.0.1", port=port, log_level="error"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        for page, rendered in (("docs", "opblock-tag"), ("redoc", "api-content")):
            dom = subprocess.run(
                [
                    # Every address but loopback goes to a dead proxy: nothing outside loads.
                    *chromium_args(tmp_path / f"profile-{page}"),
                    "--virtual-time-budget=15000",
                    "--dump-dom",
                    f"http://127.0.0.1:{port}/{page}",
                ],
                capture_output=True,
                text=True,
                timeout=120,
                check=True,
            ).stdout
            assert rendered in dom, (page, dom[:500])
            assert "/v1/match" in dom, page
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        services.engine.dispose()
