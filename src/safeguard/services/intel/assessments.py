"""Use case: assess subjects with the rule set, and let analysts override a band."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from safeguard.domain.errors import InputError
from safeguard.domain.intel.priority import Assessment, Band, Override
from safeguard.domain.intel.referrals import Referral
from safeguard.domain.intel.subjects import IntelAuditEvent, SubjectExhibit
from safeguard.services.intel.clock import Clock, utc_now
from safeguard.services.intel.priorities import RuleSet, SubjectProfile, assess, load_rule_set
from safeguard.storage.intel_store import IntelStore

_ONE_BY_ONE = 20
"""Up to this many subjects are reassessed with per-subject queries, more in one pass."""


@dataclass(frozen=True, slots=True)
class Priority:
    """A subject's priority as shown: the computed assessment and any active override.

    Attributes:
        assessment: the computed assessment (None before the subject is assessed).
        override: the active analyst override, if any.
    """

    assessment: Assessment | None
    override: Override | None = None

    @property
    def band(self) -> Band:
        """The band in force: the override's when there is one, else the computed one."""
        if self.override is not None:
            return self.override.band
        return self.assessment.band if self.assessment is not None else Band.LOW

    @property
    def computed_band(self) -> Band:
        """The band the rules gave."""
        return self.assessment.band if self.assessment is not None else Band.LOW


class PriorityService:
    """Runs the rule set over subjects and keeps analysts' overrides."""

    def __init__(
        self, store: IntelStore, rules: RuleSet | None = None, clock: Clock = utc_now
    ) -> None:
        self.store = store
        self.rules = rules or load_rule_set()
        self._clock = clock

    def reassess(self, subject_ids: Iterable[int] | None = None) -> list[Assessment]:
        """Assess the given subjects (all active ones when None) and store the results."""
        now = self._clock()
        wanted = None if subject_ids is None else set(subject_ids)
        if wanted is None or len(wanted) > _ONE_BY_ONE:
            # One pass over everything beats a few queries per subject beyond a handful.
            referrals: dict[int, list[Referral]] = defaultdict(list)
            for referral in self.store.all_referrals():
                assert referral.subject_id is not None
                if wanted is None or referral.subject_id in wanted:
                    referrals[referral.subject_id].append(referral)
            exhibits: dict[int, list[SubjectExhibit]] = defaultdict(list)
            for exhibit in self.store.all_exhibits():
                exhibits[exhibit.subject_id].append(exhibit)
            profiles = [
                SubjectProfile(s, referrals[s.subject_id], exhibits[s.subject_id])
                for s in self.store.subjects(include_merged=wanted is not None)
                if wanted is None or s.subject_id in wanted
            ]
        else:
            profiles = [
                SubjectProfile(
                    self.store.subject(subject_id),
                    self.store.referrals_of(subject_id),
                    self.store.exhibits_of(subject_id),
                )
                for subject_id in sorted(wanted)
            ]
        results = [assess(p, self.rules, now) for p in profiles]
        self.store.save_assessments(results)
        return results

    def priority(self, subject_id: int) -> Priority:
        """The subject's computed assessment and active override."""
        active = [o for o in self.store.overrides(subject_id) if o.active]
        return Priority(self.store.assessment(subject_id), active[-1] if active else None)

    def priorities(self) -> dict[int, Priority]:
        """Every assessed subject's priority."""
        overrides = {o.subject_id: o for o in self.store.overrides() if o.active}
        return {
            a.subject_id: Priority(a, overrides.get(a.subject_id)) for a in self.store.assessments()
        }

    def override(self, subject_id: int, band: Band, by: str, reason: str) -> Override:
        """An analyst sets the subject's band, with a reason; the computed band is kept.

        Raises:
            InputError: no reason.
            NotFoundError: no such subject.
        """
        if not reason.strip():
            raise InputError("an override needs a reason")
        self.store.subject(subject_id)
        computed = self.priority(subject_id).assessment
        if computed is None:
            computed = self.reassess([subject_id])[0]
        made = self.store.add_override(
            Override(subject_id, band, computed.band, reason, by, self._clock())
        )
        self.store.append_audit(
            IntelAuditEvent(
                made.at,
                by,
                "band.overridden",
                subject_id,
                {"band": band.value, "computed_band": computed.band.value, "reason": reason},
            )
        )
        return made

    def clear_override(self, subject_id: int, by: str, reason: str) -> Override:
        """Withdraw the subject's override; audited.

        Raises:
            InputError: no reason.
            NotFoundError: no active override.
        """
        if not reason.strip():
            raise InputError("withdrawing an override needs a reason")
        cleared = self.store.clear_override(subject_id, by, self._clock())
        self.store.append_audit(
            IntelAuditEvent(
                self._clock(),
                by,
                "band.override_withdrawn",
                subject_id,
                {"band": cleared.band.value, "reason": reason},
            )
        )
        return cleared
