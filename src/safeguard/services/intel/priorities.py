"""Prioritisation: a versioned rule set (TOML) that bands subjects and explains why.

The shipped rules are `rules/priority-rules.toml`; `load_rule_set(path)` reads another.
`assess(profile, rules, now)` gives every factor's contribution, the score, and the band
(the score's band, raised by any floor whose factors are all present).
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from safeguard.domain.errors import ConfigurationError
from safeguard.domain.intel.priority import Assessment, Band, Contribution
from safeguard.domain.intel.referrals import Referral
from safeguard.domain.intel.subjects import Subject, SubjectExhibit

SHIPPED_RULES = "priority-rules.toml"


@dataclass(frozen=True, slots=True)
class SubjectProfile:
    """What a subject's assessment is computed from."""

    subject: Subject
    referrals: Sequence[Referral]
    exhibits: Sequence[SubjectExhibit] = ()


@dataclass(frozen=True, slots=True)
class RuleSet:
    """A parsed rule set.

    Attributes:
        name, version: as the file states them.
        digest: SHA-256 of the file's text.
        thresholds: (band, lowest score), highest band first.
        factors: factor name -> its table of parameters.
        floors: (factor names that must all score, band they raise the result to).
        source: where it was read from.
    """

    name: str
    version: str
    digest: str
    thresholds: tuple[tuple[Band, int], ...]
    factors: Mapping[str, Mapping[str, Any]]
    floors: tuple[tuple[frozenset[str], Band], ...]
    source: str

    @property
    def label(self) -> str:
        """``name version``, as recorded on assessments."""
        return f"{self.name} {self.version}"

    def band_for(self, score: int) -> Band:
        """The band a score falls in."""
        for band, lowest in self.thresholds:
            if score >= lowest:
                return band
        return Band.LOW


def parse_rule_set(text: str, source: str) -> RuleSet:
    """A rule set from TOML text.

    Raises:
        ConfigurationError: not TOML, or a missing or unknown band or factor.
    """
    try:
        data = tomllib.loads(text)
        thresholds = tuple(
            sorted(
                ((Band.parse(name), int(score)) for name, score in data["bands"].items()),
                key=lambda item: -item[0].rank,
            )
        )
        factors = {name: dict(table) for name, table in data["factors"].items()}
        floors = tuple(
            (frozenset(floor["when"]), Band.parse(floor["band"]))
            for floor in data.get("floors", [])
        )
        name, version = str(data["name"]), str(data["version"])
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ConfigurationError(f"priority rules {source}: {exc}") from exc
    unknown = set(factors) - set(FACTORS)
    if unknown:
        raise ConfigurationError(
            f"priority rules {source}: unknown factors {sorted(unknown)} (known: {sorted(FACTORS)})"
        )
    for needed, _band in floors:
        if not needed <= set(factors):
            raise ConfigurationError(f"priority rules {source}: a floor names {sorted(needed)}")
    for factor, table in factors.items():
        if "tool" not in table:
            raise ConfigurationError(f"priority rules {source}: factor {factor} names no tool")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return RuleSet(name, version, digest, thresholds, factors, floors, source)


def load_rule_set(path: Path | None = None) -> RuleSet:
    """The rule set at `path`, or the shipped one.

    Raises:
        ConfigurationError: unreadable or invalid.
    """
    if path is None:
        text = resources.files(__package__).joinpath("rules", SHIPPED_RULES).read_text("utf-8")
        return parse_rule_set(text, f"shipped {SHIPPED_RULES}")
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot read priority rules {path}: {exc}") from exc
    return parse_rule_set(text, str(path))


# --- factors ------------------------------------------------------------------------------
# Each takes the profile and its parameters and gives (points, reason).

Factor = Callable[[SubjectProfile, Mapping[str, Any]], tuple[int, str]]


def _access(profile: SubjectProfile, p: Mapping[str, Any]) -> tuple[int, str]:
    facts = profile.subject.facts
    points, reasons = 0, []
    if facts.role_with_access_to_children:
        points += int(p["role"])
        reasons.append(f"role with access to children ({facts.occupation or 'recorded'})")
    if facts.children_in_household:
        points += int(p["household"])
        reasons.append(f"{facts.children_in_household} child(ren) in the household")
    if facts.other_access_to_children:
        points += int(p["other_access"])
        reasons.append("other access to children")
    return min(points, int(p["cap"])), "; ".join(reasons) or "none recorded"


def _prior(profile: SubjectProfile, p: Mapping[str, Any]) -> tuple[int, str]:
    facts = profile.subject.facts
    points, reasons = 0, []
    if facts.registered_sex_offender:
        points += int(p["registered"])
        reasons.append("registered sex offender")
    if facts.prior_sexual_convictions:
        points += int(p["per_conviction"]) * facts.prior_sexual_convictions
        reasons.append(f"{facts.prior_sexual_convictions} previous sexual conviction(s)")
    return min(points, int(p["cap"])), "; ".join(reasons) or "none recorded"


def _contact(profile: SubjectProfile, p: Mapping[str, Any]) -> tuple[int, str]:
    annotations = set(p.get("annotations", []))
    incidents = set(p.get("incident_types", []))
    points, reasons = 0, []
    if profile.subject.facts.contact_offence_history:
        points += int(p["history"])
        reasons.append("contact offence history recorded")
    flagged = [
        r
        for r in profile.referrals
        if annotations & set(r.annotations) or r.incident_type in incidents
    ]
    if flagged:
        points += int(p["per_indicator"]) * len(flagged)
        found = sorted({a for r in flagged for a in r.annotations if a in annotations})
        kinds = sorted({r.incident_type for r in flagged if r.incident_type in incidents})
        reasons.append(f"{len(flagged)} referral(s) with {', '.join(found + kinds)}")
    return min(points, int(p["cap"])), "; ".join(reasons) or "no indicators"


def _production(profile: SubjectProfile, p: Mapping[str, Any]) -> tuple[int, str]:
    count = sum(1 for r in profile.referrals for f in r.files if f.is_first_generation)
    if not count:
        return 0, "no material outside the lists"
    points = min(int(p["first"]) + int(p["per_more"]) * (count - 1), int(p["cap"]))
    return points, f"{count} file(s) on no list (possibly first generation)"


def _escalation(profile: SubjectProfile, p: Mapping[str, Any]) -> tuple[int, str]:
    flagged = [r for r in profile.referrals if r.escalation]
    if not flagged:
        return 0, "no referral escalated"
    points = min(int(p["per_referral"]) * len(flagged), int(p["cap"]))
    return points, f"{len(flagged)} referral(s) escalated by the reporter"


def _severity(profile: SubjectProfile, p: Mapping[str, Any]) -> tuple[int, str]:
    codes = set(p["codes"])
    found = sorted(
        {
            f"{m.category_scheme}:{m.category_code}"
            for r in profile.referrals
            for f in r.files
            for m in f.known_matches
            if f"{m.category_scheme}:{m.category_code}" in codes
        }
        | {
            f"industry:{f.industry_classification}"
            for r in profile.referrals
            for f in r.files
            if f"industry:{f.industry_classification}" in codes
        }
    )
    if not found:
        return 0, "no known material in the most severe categories"
    return int(p["most_severe"]), f"known material in {', '.join(found)}"


def known_file_count(profile: SubjectProfile) -> int:
    """Known files: referral files on a known-bad list plus examined exhibits' known-bad."""
    on_lists = sum(1 for r in profile.referrals for f in r.files if f.is_known)
    return on_lists + sum(e.known_bad_files for e in profile.exhibits)


def _volume(profile: SubjectProfile, p: Mapping[str, Any]) -> tuple[int, str]:
    count = known_file_count(profile)
    points = 0
    for at_least, step_points in p["steps"]:
        if count >= int(at_least):
            points = int(step_points)
    return points, f"{count} known file(s)"


def _repeat(profile: SubjectProfile, p: Mapping[str, Any]) -> tuple[int, str]:
    count = len(profile.referrals)
    if count < 2:
        return 0, f"{count} referral(s)"
    times = sorted(r.when for r in profile.referrals)
    days = (times[-1] - times[0]).days
    spread = days >= int(p["spread_days"])
    if spread and count >= 5:
        points = int(p["five_or_more"])
    elif spread:
        points = int(p["spread"])
    else:
        points = int(p["two_or_more"])
    return points, f"{count} referrals over {days} day(s)"


FACTORS: Mapping[str, Factor] = {
    "access_to_children": _access,
    "prior_sexual_offending": _prior,
    "contact_offending": _contact,
    "production": _production,
    "escalation": _escalation,
    "severity": _severity,
    "volume": _volume,
    "repeat_referrals": _repeat,
}


def assess(profile: SubjectProfile, rules: RuleSet, now: datetime) -> Assessment:
    """Every factor of `rules` applied to the profile, the score and the band."""
    contributions = []
    for name, params in rules.factors.items():
        points, reason = FACTORS[name](profile, params)
        contributions.append(Contribution(name, str(params["tool"]), points, reason))
    score = sum(c.points for c in contributions)
    band = rules.band_for(score)
    scoring = {c.factor for c in contributions if c.points > 0}
    for needed, floor in rules.floors:
        if needed <= scoring and floor.rank > band.rank:
            band = floor
            contributions.append(
                Contribution(
                    "floor",
                    "rule set floor",
                    0,
                    f"{' + '.join(sorted(needed))} present: at least {floor.value}",
                    floor,
                )
            )
    return Assessment(
        subject_id=profile.subject.subject_id,
        band=band,
        score=score,
        contributions=tuple(contributions),
        rules_version=rules.label,
        rules_digest=rules.digest,
        computed_at=now,
    )
