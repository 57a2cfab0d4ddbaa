"""The intelligence services over a given store, with a fixed clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, text

from safeguard.services.intel.assessments import PriorityService
from safeguard.services.intel.intake import FileMatcher, IntakeService
from safeguard.services.intel.links import LinkService
from safeguard.services.intel.subjects import SubjectService
from safeguard.storage.intel_store import IntelStore
from tests.intel_factories import T0


class StepClock:
    """A clock that moves one second per reading."""

    def __init__(self, start: datetime = T0 + timedelta(days=60)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@dataclass
class IntelStack:
    store: IntelStore
    links: LinkService
    priorities: PriorityService
    subjects: SubjectService
    intake: IntakeService


def intel_stack(store: IntelStore, match_files: FileMatcher | None = None) -> IntelStack:
    clock = StepClock()
    links = LinkService(store, clock=clock)
    priorities = PriorityService(store, clock=clock)
    subjects = SubjectService(store, links, priorities, clock=clock)
    intake = IntakeService(store, subjects, match_files, clock=clock)
    return IntelStack(store, links, priorities, subjects, intake)


def empty_intel_tables(engine: Engine) -> None:
    """Delete every intelligence row of a PostgreSQL database (its audit guard paused)."""
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE intel_audit DISABLE TRIGGER USER"))
        conn.execute(
            text(
                "TRUNCATE intel_audit, intel_overrides, intel_assessments, intel_suppressions, "
                "intel_links, intel_merges, intel_exhibits, intel_referral_keys, "
                "intel_referrals, intel_subjects RESTART IDENTITY CASCADE"
            )
        )
        conn.execute(text("ALTER TABLE intel_audit ENABLE TRIGGER USER"))
