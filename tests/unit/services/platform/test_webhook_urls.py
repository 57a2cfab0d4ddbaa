"""Webhook destinations: normalised when set, internal ones refused, checked again at delivery."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from safeguard.domain.errors import ConfigurationError
from safeguard.services.platform.webhook_urls import WebhookPolicy

ADDRESSES = {
    "hooks.example.com": ["192.0.2.10"],
    "rebinding.example.com": ["192.0.2.11", "10.0.0.5"],
    "inside.example.com": ["10.1.1.1"],
}


def fake_resolver(host: str, _port: int) -> Sequence[str]:
    if host in ADDRESSES:
        return ADDRESSES[host]
    raise OSError("no such name")


def policy(*allowed: str) -> WebhookPolicy:
    # 192.0.2.0/24 (documentation addresses, which Python counts as private) stands in for
    # the public internet here.
    return WebhookPolicy(allowed=("192.0.2.0/24", *allowed), resolve=fake_resolver)


def test_urls_are_normalised() -> None:
    assert policy().normalise("HTTPS://Hooks.Example.COM:443") == "https://hooks.example.com/"
    assert (
        policy().normalise(" Http://hooks.example.com:8080/in?x=1 ")
        == "http://hooks.example.com:8080/in?x=1"
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://a b/",
        "ftp://hooks.example.com/",
        "http://user:pw@hooks.example.com/",
        "http://hooks.example.com/#frag",
        "http://rebinding.example.com/",  # one of its addresses is private
        "http://inside.example.com/",
        "http://nowhere.example.com/",
        "http://metadata.google.internal/",
        "http:///nohost",
    ],
)
def test_bad_or_internal_destinations_are_refused(url: str) -> None:
    with pytest.raises(ConfigurationError):
        policy().normalise(url)


def test_allow_list_admits_named_hosts_and_networks() -> None:
    assert policy("inside.example.com").normalise("http://inside.example.com/")
    assert policy("10.0.0.0/8").normalise("http://inside.example.com/")


def test_delivery_connects_to_the_checked_address() -> None:
    parts, address = policy().resolve_checked("http://hooks.example.com/in")
    assert (parts.hostname, address) == ("hooks.example.com", "192.0.2.10")
    ADDRESSES["hooks.example.com"] = ["127.0.0.1"]  # the name moved inside since it was set
    try:
        with pytest.raises(ConfigurationError):
            policy().resolve_checked("http://hooks.example.com/in")
    finally:
        ADDRESSES["hooks.example.com"] = ["192.0.2.10"]
