"""Password hashes of [user:NAME] sections: werkzeug's salted scrypt (or PBKDF2) format, checked at start-up.

Werkzeug ships with Flask, so no further dependency; its scrypt is memory-hard (32 MiB per
check at its defaults), which slows a stolen-hash attack on GPUs as much as argon2 would.
"""
import secrets

from werkzeug.security import check_password_hash, generate_password_hash

# Below these work factors a hash is too fast to stand an offline attack: refused at start-up.
MIN_SCRYPT_N = 2 ** 14
MIN_PBKDF2_ITERATIONS = 100_000
DEFAULT_METHOD = "scrypt"


def hash_password(password):
    """A new salted hash of password (werkzeug's scrypt at its default work factor)."""
    return generate_password_hash(password, method=DEFAULT_METHOD)


def hash_problem(text):
    """None when text is a hash this server accepts, else why not (never quoting text)."""
    method, separator, rest = text.partition("$")
    salt, _, digest = rest.partition("$")
    if not separator or not salt or not digest:
        return "not a password hash (expected method$salt$hash, e.g. scrypt:32768:8:1$...)"
    kind, *factors = method.split(":")
    try:
        if kind == "scrypt":
            n = int(factors[0]) if factors else 2 ** 15
            if n < MIN_SCRYPT_N:
                return f"scrypt work factor {n} is below {MIN_SCRYPT_N}"
        elif kind == "pbkdf2":
            iterations = int(factors[1]) if len(factors) > 1 else 1_000_000
            if iterations < MIN_PBKDF2_ITERATIONS:
                return f"pbkdf2 iterations {iterations} are below {MIN_PBKDF2_ITERATIONS}"
        else:
            return "not a scrypt or pbkdf2 hash"
    except ValueError:
        return "malformed work factor in the hash method"
    return None


def method_of(password_hash):
    """The method part of a hash ("scrypt:32768:8:1"), to make a decoy that costs the same."""
    return password_hash.partition("$")[0]


def decoy_hash(method=DEFAULT_METHOD):
    """A hash of a random password: checked instead when the user is unknown, so that an
    unknown user costs the same time as a wrong password."""
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def verify(password_hash, password):
    """True when password matches; the KDF always runs in full."""
    return check_password_hash(password_hash, password)
