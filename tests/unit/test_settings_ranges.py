"""Every numeric setting is range-checked when read, refused with its variable and range."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from safeguard.domain.errors import ConfigurationError
from safeguard.settings import ENV_PREFIX, Settings, load_settings
from safeguard.settings_ranges import AT_LEAST_AS_LARGE, SETTING_RANGES

DOCS = Path(__file__).resolve().parents[2] / "docs" / "settings.md"


def _variable(name: str) -> str:
    return ENV_PREFIX + name.upper()


def _environment(name: str, value: int) -> dict[str, str]:
    """`name` set to `value`, and the settings it must agree with moved out of its way."""
    env = {_variable(name): str(value)}
    for larger, smaller, _why in AT_LEAST_AS_LARGE:
        if name == larger:
            env[_variable(smaller)] = str(SETTING_RANGES[smaller].low)
        elif name == smaller:
            env[_variable(larger)] = str(SETTING_RANGES[larger].high)
    return env


def _boundaries() -> list[tuple[str, int]]:
    cases = []
    for name, allowed in SETTING_RANGES.items():
        cases.append((name, allowed.low))
        if allowed.high is not None:
            cases.append((name, allowed.high))
        if allowed.zero:
            cases.append((name, 0))
    return cases


def _refusals() -> list[tuple[str, int]]:
    cases = []
    for name, allowed in SETTING_RANGES.items():
        if not (allowed.zero and allowed.low == 1):
            cases.append((name, allowed.low - 1))
        if allowed.zero:
            cases.append((name, -1))
        if allowed.high is not None:
            cases.append((name, allowed.high + 1))
    return sorted(set(cases))


def test_every_integer_setting_has_a_range() -> None:
    integers = {field.name for field in dataclasses.fields(Settings) if field.type == "int"}
    assert integers == set(SETTING_RANGES)


def test_every_default_is_in_its_range() -> None:
    defaults = Settings()
    for name, allowed in SETTING_RANGES.items():
        assert allowed.allows(getattr(defaults, name)), name
    assert load_settings({}) == Settings(data_dir=defaults.data_dir)


@pytest.mark.parametrize(("name", "value"), _boundaries(), ids=lambda v: str(v))
def test_the_boundaries_are_accepted(name: str, value: int) -> None:
    assert getattr(load_settings(_environment(name, value)), name) == value


@pytest.mark.parametrize(("name", "value"), _refusals(), ids=lambda v: str(v))
def test_a_value_outside_the_range_is_refused_with_variable_value_and_range(
    name: str, value: int
) -> None:
    allowed = SETTING_RANGES[name]
    with pytest.raises(ConfigurationError) as refused:
        load_settings(_environment(name, value))
    message = str(refused.value)
    assert message == (
        f"{name} ({_variable(name)}) must be {allowed.describe()}, not {value:,}: {allowed.means}"
    )


def test_the_message_reads_as_documented() -> None:
    with pytest.raises(ConfigurationError) as refused:
        load_settings({"SAFEGUARD_DECODE_TIMEOUT_SECONDS": "0"})
    assert str(refused.value) in DOCS.read_text()


@pytest.mark.parametrize(
    ("name", "range_in_words"),
    [
        ("workers", "from 0 to 4,096"),
        ("pdq_threshold", "from 0 to 80"),
        ("pdq_quality_floor", "from 0 to 100"),
        ("retroactive_hit_limit", "at least 0"),
        ("upload_max_expansion", "0 (off) or from 10 to 1,000,000"),
        ("decode_memory_mb", "0 (no limit) or from 256 to 65,536"),
    ],
)
def test_ranges_in_words(name: str, range_in_words: str) -> None:
    assert SETTING_RANGES[name].describe() == range_in_words


def test_settings_made_in_code_or_overridden_are_checked_too() -> None:
    with pytest.raises(ConfigurationError, match=r"SAFEGUARD_WORKERS\) must be"):
        Settings(workers=-1)
    with pytest.raises(ConfigurationError, match=r"SAFEGUARD_PDQ_THRESHOLD\) must be"):
        Settings().with_overrides(pdq_threshold=257)


@pytest.mark.parametrize(
    ("env", "says"),
    [
        (
            {"SAFEGUARD_MAX_UPLOAD_BYTES": "200000000"},
            "bodies_in_flight_bytes (SAFEGUARD_BODIES_IN_FLIGHT_BYTES) must be at least "
            "max_upload_bytes (SAFEGUARD_MAX_UPLOAD_BYTES, 200,000,000), not 167,772,160",
        ),
        (
            {"SAFEGUARD_BATCH_MAX_PIXELS": "1000000"},
            "batch_max_pixels (SAFEGUARD_BATCH_MAX_PIXELS) must be at least "
            "upload_max_pixels (SAFEGUARD_UPLOAD_MAX_PIXELS, 16,000,000), not 1,000,000",
        ),
    ],
)
def test_settings_that_must_agree_are_checked_together(env: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        load_settings(env)
    assert str(refused.value).startswith(says)


def test_a_value_that_is_not_a_whole_number_is_refused_with_the_range() -> None:
    for raw in ("two", "1.5", ""):
        with pytest.raises(ConfigurationError) as refused:
            load_settings({"SAFEGUARD_WORKERS": raw})
        assert str(refused.value) == (
            f"SAFEGUARD_WORKERS={raw!r} is not a whole number from 0 to 4,096"
        )


@pytest.mark.parametrize(
    "spec", ["24,72,336", "24,72,336,0", "a,b,c,d", "nan,72,336,672", "inf,1,1,1", "1e300,1,1,1"]
)
def test_package_deadline_hours_are_checked_when_read(spec: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        load_settings({"SAFEGUARD_PACKAGE_DEADLINE_HOURS": spec})
    assert str(refused.value) == (
        "package_deadline_hours (SAFEGUARD_PACKAGE_DEADLINE_HOURS) must be four numbers of "
        f"hours above 0 (Very High, High, Medium, Low), not {spec!r}"
    )
    fine = load_settings({"SAFEGUARD_PACKAGE_DEADLINE_HOURS": "12, 48, 240, 480"})
    assert fine.package_deadline_hours == "12, 48, 240, 480"


def test_the_docs_show_each_range() -> None:
    shown: dict[str, str] = {}
    for line in DOCS.read_text().splitlines():
        row = re.match(r"\| `SAFEGUARD_([A-Z_]+)`[^|]* \| [^|]* \| ([^|]*) \|", line)
        if row:
            shown[row.group(1).lower()] = row.group(2)
    assert {name: shown.get(name) for name in SETTING_RANGES} == {
        name: allowed.describe() for name, allowed in SETTING_RANGES.items()
    }
