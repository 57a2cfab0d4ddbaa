"""Password hashing with Argon2id (memory-hard), through argon2-cffi."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from safeguard.domain.errors import InputError

MIN_PASSWORD_LENGTH = 12


@dataclass(frozen=True, slots=True)
class PasswordPolicy:
    """Argon2id cost settings and the shortest password accepted.

    Attributes:
        time_cost: Argon2 passes over memory.
        memory_kib: memory per hash in KiB (64 MiB by default: what makes guessing costly).
        parallelism: lanes.
        min_length: passwords shorter than this are refused.
    """

    time_cost: int = 3
    memory_kib: int = 64 * 1024
    parallelism: int = 4
    min_length: int = MIN_PASSWORD_LENGTH


class Passwords:
    """Hash and check passwords; hashes are self-describing Argon2id strings."""

    def __init__(self, policy: PasswordPolicy | None = None) -> None:
        self._policy = policy or PasswordPolicy()
        self._hasher = PasswordHasher(
            time_cost=self._policy.time_cost,
            memory_cost=self._policy.memory_kib,
            parallelism=self._policy.parallelism,
        )
        # Checked against when the user name is unknown, so that answer takes as long.
        self._decoy = self._hasher.hash("decoy password that matches nothing")

    def hash(self, password: str) -> str:
        """An Argon2id hash of `password`.

        Raises:
            InputError: the password is shorter than the policy's minimum.
        """
        if len(password) < self._policy.min_length:
            raise InputError(f"a password needs at least {self._policy.min_length} characters")
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when `password` matches `stored_hash`; None spends the same time and fails."""
        try:
            return self._hasher.verify(stored_hash or self._decoy, password) and bool(stored_hash)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        """True when the stored hash was made with weaker parameters than today's."""
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True
