"""Examiner wellbeing settings, per user: blur strength, greyscale, break reminders.

Stored as the user's preferences (`PeopleStore.preferences`). Blur is clamped to
`MIN_BLUR`..`MAX_BLUR` whatever is stored. Videos are never played in the grid (contact
sheets only), so there is no sound; `muted` records the default for any player.
"""

from __future__ import annotations

from dataclasses import dataclass

from safeguard.domain.people import User
from safeguard.services.review.thumbnails import DEFAULT_BLUR, MAX_BLUR, MIN_BLUR, ViewSettings
from safeguard.storage.people_store import PeopleStore

DEFAULT_BREAK_MINUTES = 45


@dataclass(frozen=True, slots=True)
class WellbeingSettings:
    """One examiner's choices for the grid."""

    blur: float = DEFAULT_BLUR
    greyscale: bool = True
    break_minutes: int = DEFAULT_BREAK_MINUTES
    muted: bool = True

    @property
    def view(self) -> ViewSettings:
        """How thumbnails are made for this examiner."""
        return ViewSettings(self.blur, self.greyscale)


def _number(text: str | None, default: float, low: float, high: float) -> float:
    try:
        value = float(text) if text is not None else default
    except ValueError:
        value = default
    return min(high, max(low, value))


class WellbeingPreferences:
    """Reads and writes `WellbeingSettings` for a user."""

    def __init__(self, store: PeopleStore) -> None:
        self._store = store

    def of(self, user: User) -> WellbeingSettings:
        """The user's settings (defaults where none were chosen)."""
        stored = self._store.preferences(user.user_id)
        return WellbeingSettings(
            blur=_number(stored.get("review.blur"), DEFAULT_BLUR, MIN_BLUR, MAX_BLUR),
            greyscale=stored.get("review.greyscale", "1") == "1",
            break_minutes=int(
                _number(stored.get("review.break_minutes"), DEFAULT_BREAK_MINUTES, 5, 240)
            ),
            muted=stored.get("review.muted", "1") == "1",
        )

    def save(self, user: User, settings: WellbeingSettings) -> WellbeingSettings:
        """Store the settings (clamped) and return them as they will be used."""
        clean = WellbeingSettings(
            blur=_number(str(settings.blur), DEFAULT_BLUR, MIN_BLUR, MAX_BLUR),
            greyscale=settings.greyscale,
            break_minutes=int(_number(str(settings.break_minutes), DEFAULT_BREAK_MINUTES, 5, 240)),
            muted=settings.muted,
        )
        self._store.set_preferences(
            user.user_id,
            {
                "review.blur": str(clean.blur),
                "review.greyscale": "1" if clean.greyscale else "0",
                "review.break_minutes": str(clean.break_minutes),
                "review.muted": "1" if clean.muted else "0",
            },
        )
        return clean
