"""Password hashing with argon2id (argon2-cffi).

Defaults follow OWASP's minimum for argon2id (19 MiB memory, 2 iterations, 1 lane); they are
configurable upwards. Hashes carry their parameters, so raising them later re-hashes on the
next successful login (:meth:`PasswordHasher.needs_rehash`).
"""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher as _Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = ["PasswordHasher", "PasswordHashing"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PasswordHashing:
    """argon2id cost parameters."""

    memory_kib: int = 19_456
    """Memory per hash in KiB (OWASP minimum 19 MiB)."""
    iterations: int = 2
    """Time cost (passes over memory)."""
    parallelism: int = 1
    """Lanes."""

    def __post_init__(self) -> None:
        if self.memory_kib < 19_456 or self.iterations < 2 or self.parallelism < 1:
            raise ValueError("argon2id parameters below OWASP's minimum (19 MiB, t=2, p=1)")


class PasswordHasher:
    """Hash and verify passwords."""

    def __init__(self, params: PasswordHashing | None = None) -> None:
        p = params or PasswordHashing()
        self._hasher = _Argon2(
            time_cost=p.iterations,
            memory_cost=p.memory_kib,
            parallelism=p.parallelism,
            hash_len=32,
            salt_len=16,
            type=Type.ID,
        )

    def hash(self, password: str) -> str:
        """A self-describing argon2id hash of ``password``."""
        return self._hasher.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        """Whether ``password`` matches ``stored_hash``; malformed hashes never match."""
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        """Whether the hash was made with weaker parameters than the current ones."""
        return self._hasher.check_needs_rehash(stored_hash)
