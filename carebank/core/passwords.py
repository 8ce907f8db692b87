"""Password hashing: argon2id for every new hash; older werkzeug hashes still let their owner in.

The hasher is argon2-cffi's default, RFC 9106's "low memory" profile (argon2id, 3 passes over
64 MiB, 4 lanes): about 140 ms per hash or check on a 2-core server, near what werkzeug's
scrypt took before. Its parameters are written into each hash, so raising them later only
needs `needs_rehash`: the next successful login stores a hash made with the new ones.
"""
from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from werkzeug.security import check_password_hash

hasher = PasswordHasher()
ARGON2ID = "$argon2id$"


def hash_password(password: str) -> str:
    return hasher.hash(password)


def verify_password(stored: str | None, password) -> bool:
    """Whether `password` matches the stored hash: argon2, or werkzeug's scrypt or pbkdf2 from
    before argon2. Without a stored hash the check still takes as long, and fails."""
    password = password if isinstance(password, str) else ""
    if not stored:
        _verify_argon2(_dummy_hash(hasher), password)
        return False
    if stored.startswith("$argon2"):
        return _verify_argon2(stored, password)
    try:
        return check_password_hash(stored, password)
    except ValueError:  # a method werkzeug does not know: nothing matches it
        return False


def needs_rehash(stored: str) -> bool:
    """Whether a hash that just matched should be replaced: not argon2id, or older parameters."""
    return not stored.startswith(ARGON2ID) or hasher.check_needs_rehash(stored)


def _verify_argon2(stored: str, password: str) -> bool:
    try:
        return hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):  # a mismatch, or a damaged hash
        return False


@cache
def _dummy_hash(current: PasswordHasher) -> str:
    # Checked when an email is unknown (or has no password), so the answer takes as long as a
    # real check and does not tell which emails have accounts. Made on first use, with the
    # hasher in use (tests swap in a cheap one), rather than at import.
    return current.hash("not anyone's password")
