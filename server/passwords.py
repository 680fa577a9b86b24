"""Password hashing with argon2id at OWASP's recommended parameters."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified against when the account does not exist, so timing does not reveal which do.
_DUMMY = _hasher.hash("not-a-real-password")

MIN_LENGTH = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def problem(password: str) -> str | None:
    if len(password) < MIN_LENGTH:
        return f"must be at least {MIN_LENGTH} characters"
    return None
