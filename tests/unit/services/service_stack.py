"""The matching service's services on in-memory stores, for unit tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.hash_lists import HashEntry, HashList, ListKind, category_for
from safeguard.hashing.contract import HashOptions
from safeguard.hashing.pipeline import hash_bytes
from safeguard.services.hash_lists.list_changes import ListAdministration
from safeguard.services.matching import MatchService
from safeguard.services.platform.actions import ActionService
from safeguard.services.platform.index_keeper import IndexKeeper
from safeguard.services.platform.retroactive_jobs import RetroactiveJobs
from safeguard.services.platform.upload_matching import UploadMatchingService
from safeguard.services.platform.webhook_urls import WebhookPolicy
from safeguard.storage.memory_hash_lists import MemoryHashListStore
from safeguard.storage.memory_retroactive_jobs import MemoryRetroactiveJobStore
from safeguard.storage.memory_service import MemoryServiceStore


class FakeClock:
    """A clock that moves only when told."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class ServiceStack:
    lists: MemoryHashListStore
    store: MemoryServiceStore
    keeper: IndexKeeper
    actions: ActionService
    matching: UploadMatchingService
    admin: ListAdministration
    clock: FakeClock
    jobs: MemoryRetroactiveJobStore
    retroactive: RetroactiveJobs


def build_stack() -> ServiceStack:
    clock = FakeClock()
    lists = MemoryHashListStore()
    store = MemoryServiceStore(list_revision=lists.current_revision)
    keeper = IndexKeeper(MatchService(lists, auto_refresh=False), lists, clock=clock)
    actions = ActionService(store, clock=clock)
    options = HashOptions(dihedral=True)
    matching = UploadMatchingService(
        lambda data, name: hash_bytes(data, name, options), keeper, actions, store, clock=clock
    )
    jobs = MemoryRetroactiveJobStore()
    retroactive = RetroactiveJobs(jobs, store, lists, actions, clock=clock)
    admin = ListAdministration(
        lists,
        store,
        keeper,
        retroactive,
        clock=clock,
        # The tests' webhook receivers are on loopback.
        webhook_policy=WebhookPolicy(allowed=("127.0.0.1",)),
    )
    return ServiceStack(lists, store, keeper, actions, matching, admin, clock, jobs, retroactive)


def bad_list(name: str = "bad", actions: str | None = "block,report,quarantine") -> HashList:
    return HashList(name=name, kind=ListKind.KNOWN_BAD, source="test", version="1", action=actions)


def entry(entry_id: str, **digests: str) -> HashEntry:
    return HashEntry(
        entry_id=entry_id,
        digests={HashAlgorithm(k): v for k, v in digests.items()},
        category=category_for("industry", "A2"),
    )


def flip_bits(pdq: str, count: int) -> str:
    value = int(pdq, 16)
    for bit in range(count):
        value ^= 1 << ((bit * 251) % 256)
    return f"{value:064x}"
