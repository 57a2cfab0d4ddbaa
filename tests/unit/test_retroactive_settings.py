"""The retroactive jobs' batch size, hit limit and lease are settings, checked when read."""

from __future__ import annotations

import pytest

from safeguard.domain.errors import ConfigurationError
from safeguard.domain.retroactive_jobs import BATCH_UPLOADS, LEASE_SECONDS, MAX_HITS_PER_CHANGE
from safeguard.settings import Settings, load_settings


def test_the_defaults_are_the_jobs_own() -> None:
    settings = load_settings({})
    assert settings.retroactive_batch_uploads == BATCH_UPLOADS == 10_000
    assert settings.retroactive_hit_limit == MAX_HITS_PER_CHANGE == 1000
    assert settings.retroactive_lease_seconds == LEASE_SECONDS == 120


def test_they_are_read_from_the_environment() -> None:
    settings = load_settings(
        {
            "SAFEGUARD_RETROACTIVE_BATCH_UPLOADS": "500",
            "SAFEGUARD_RETROACTIVE_HIT_LIMIT": "0",
            "SAFEGUARD_RETROACTIVE_LEASE_SECONDS": "600",
        }
    )
    assert settings.retroactive_batch_uploads == 500
    assert settings.retroactive_hit_limit == 0  # never held
    assert settings.retroactive_lease_seconds == 600


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("RETROACTIVE_BATCH_UPLOADS", "0", "from 1 to 1,000,000, not 0"),
        ("RETROACTIVE_BATCH_UPLOADS", "2000000", "from 1 to 1,000,000, not 2,000,000"),
        ("RETROACTIVE_HIT_LIMIT", "-1", "at least 0, not -1"),
        ("RETROACTIVE_LEASE_SECONDS", "0", "from 10 to 86,400, not 0"),
        ("RETROACTIVE_LEASE_SECONDS", "120000", "from 10 to 86,400, not 120,000"),
    ],
)
def test_nonsense_is_refused_with_the_variable_and_its_bounds(
    variable: str, value: str, says: str
) -> None:
    with pytest.raises(ConfigurationError) as refused:
        load_settings({f"SAFEGUARD_{variable}": value})
    assert f"SAFEGUARD_{variable}" in str(refused.value)
    assert says in str(refused.value)


def test_a_value_that_is_not_a_number_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="SAFEGUARD_RETROACTIVE_LEASE_SECONDS"):
        load_settings({"SAFEGUARD_RETROACTIVE_LEASE_SECONDS": "2m"})


def test_settings_made_in_code_are_checked_too() -> None:
    with pytest.raises(ConfigurationError, match="retroactive_batch_uploads"):
        Settings(retroactive_batch_uploads=-5)
