from __future__ import annotations

from datetime import timedelta

import pytest

from safeguard.domain.intel.links import KeyObservation, Link, LinkKind
from safeguard.services.intel.linking import LinkPolicy, compute_links, networks, rarity
from tests.intel_factories import T0


def obs(
    referral: int,
    subject: int,
    kind: str,
    key: str,
    minutes: int | None = None,
    port: int | None = None,
) -> KeyObservation:
    at = None if minutes is None else T0 + timedelta(minutes=minutes)
    return KeyObservation(referral, subject, kind, key, at, port)


def filler(count: int, start: int = 1000) -> list[KeyObservation]:
    """Unrelated referrals, one subject each, so rarity has a population."""
    return [obs(start + i, start + i, "email", f"email:u{i}@example.com") for i in range(count)]


def test_rarity_falls_from_one_at_two_referrals_to_zero_at_the_cap() -> None:
    assert rarity(1, 2000) == rarity(2, 2000) == 1.0
    assert 1.0 > rarity(5, 2000) > rarity(50, 2000) > rarity(500, 2000) > 0
    assert rarity(2000, 2000) == 0.0


def test_shared_identifier_links_two_subjects_with_evidence() -> None:
    run = compute_links(
        [
            obs(1, 1, "phone", "phone:+447700900123"),
            obs(2, 2, "phone", "phone:+447700900123"),
            *filler(98),
        ],
        LinkPolicy(),
        T0,
    )
    [link] = run.links
    assert link.pair == (1, 2)
    assert link.kind is LinkKind.IDENTIFIER
    assert link.evidence == (1, 2)
    assert link.weight == 0.9
    assert "linking-1" in link.provenance


def test_item_in_a_large_share_of_referrals_links_no_one() -> None:
    viral = "entry:demo:VIRAL"
    observations = filler(1000)
    observations += [obs(1000 + i, 1000 + i, "image", viral) for i in range(0, 1000, 5)]
    run = compute_links(observations, LinkPolicy(), T0)
    assert run.links == []
    assert run.too_common == {viral: 200}


def test_key_held_by_too_many_subjects_links_no_one() -> None:
    observations = filler(100_000 // 100)
    observations += [obs(i, i, "device_id", "device_id:HUB") for i in range(60)]
    run = compute_links(observations, LinkPolicy(max_share=0.5), T0)
    assert run.links == []


def test_one_listed_image_is_a_weak_link_and_two_reach_the_floor() -> None:
    base = filler(500)
    one = compute_links(
        [obs(1, 1, "image", "entry:l:A"), obs(2, 2, "image", "entry:l:A"), *base], LinkPolicy(), T0
    )
    assert len(one.links) == 1
    assert networks(one.links, 0.5) == []
    two = compute_links(
        [
            obs(1, 1, "image", "entry:l:A"),
            obs(2, 2, "image", "entry:l:A"),
            obs(1, 1, "image", "entry:l:B"),
            obs(2, 2, "image", "entry:l:B"),
            *base,
        ],
        LinkPolicy(),
        T0,
    )
    assert networks(two.links, 0.5) == [[1, 2]]
    unlisted = compute_links(
        [obs(1, 1, "image", "sha256:ab"), obs(2, 2, "image", "sha256:ab"), *base], LinkPolicy(), T0
    )
    assert networks(unlisted.links, 0.5) == [[1, 2]]


@pytest.mark.parametrize(
    ("minutes_b", "port_a", "port_b", "linked"),
    [
        (30, None, None, True),
        (59, 443, 443, True),
        (61, None, None, False),
        (10, 1000, 2000, False),
        (10, 1000, None, True),
    ],
)
def test_ip_links_only_within_the_window_and_on_the_same_port(
    minutes_b: int, port_a: int | None, port_b: int | None, linked: bool
) -> None:
    run = compute_links(
        [
            obs(1, 1, "ip", "ip:198.51.100.9", 0, port_a),
            obs(2, 2, "ip", "ip:198.51.100.9", minutes_b, port_b),
            *filler(200),
        ],
        LinkPolicy(ip_window=timedelta(hours=1)),
        T0,
    )
    assert bool(run.links) is linked


def test_ip_without_a_time_never_links() -> None:
    run = compute_links(
        [obs(1, 1, "ip", "ip:198.51.100.9"), obs(2, 2, "ip", "ip:198.51.100.9"), *filler(200)],
        LinkPolicy(),
        T0,
    )
    assert run.links == []


def test_networks_are_connected_groups_respecting_suppression_and_merges() -> None:
    def link(a: int, b: int, weight: float = 1.0, kind: LinkKind = LinkKind.IDENTIFIER) -> Link:
        return Link(a, b, kind, f"k{a}{b}", weight, (), "p", T0)

    links = [link(1, 2), link(2, 3), link(4, 5, 0.3), link(4, 5, 0.3), link(6, 7, 0.2)]
    assert networks(links, 0.5) == [[1, 2, 3], [4, 5]]
    assert networks(links, 0.5, suppressed=[(2, 3)]) == [[1, 2], [4, 5]]
    analyst = [Link(7, 9, LinkKind.ANALYST, "analyst", 0.0, (), "why", T0, "an")]
    assert networks(analyst, 0.5, resolve={9: 8}) == [[7, 8]]
