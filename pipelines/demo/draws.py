"""Cheap deterministic draws of the demo generator: a 64-bit hash for per-contract planning,
Luhn-valid SIREN and SIRET numbers, weighted picks and amounts rounded as real ones are."""

from __future__ import annotations

import bisect
import math

M64 = (1 << 64) - 1


GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


def mix64(x: int) -> int:
    """splitmix64 finaliser: cheap, well-spread hash for per-contract planning draws."""
    x = (x + 0x9E3779B97F4A7C15) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


# ASCII digit -> its value, and -> the digit sum of its double: bytes.translate + sum() keep the
# Luhn computation in C (it runs for every supplier of every record).
DIGIT = bytes.maketrans(b"0123456789", bytes(range(10)))


DOUBLED = bytes.maketrans(b"0123456789", bytes((0, 2, 4, 6, 8, 1, 3, 5, 7, 9)))


def luhn_ok(value: str) -> bool:
    """True when ``value`` is all ASCII digits and passes the Luhn check (SIREN/SIRET)."""
    if not (value.isascii() and value.isdigit()):
        return False
    rev = value[::-1].encode()
    return (sum(rev[0::2].translate(DIGIT)) + sum(rev[1::2].translate(DOUBLED))) % 10 == 0


# Luhn contribution of a 4-digit block whose units digit sits at a doubled position: SIRETs of
# suppliers are then checked with integer arithmetic only (see ``supplier_siret``).
LUHN_BLOCK = [
    sum(
        (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)[d] if k % 2 == 0 else d
        for k, d in enumerate((x % 10, x // 10 % 10, x // 100 % 10, x // 1000))
    )
    for x in range(10_000)
]


def supplier_siret(siren8: int, nic: int) -> str:
    """Luhn-valid SIRET from an 8-digit SIREN body and a 4-digit NIC body."""
    t = LUHN_BLOCK
    siren = siren8 * 10 + (-(t[siren8 % 10_000] + t[siren8 // 10_000]) % 10)
    total = t[nic] + t[siren % 10_000] + t[siren // 10_000 % 10_000] + t[siren // 100_000_000]
    return f"{siren:09d}{nic:04d}{-total % 10}"


def luhn_complete(prefix: str) -> str:
    """``prefix`` plus the digit that makes it pass the Luhn check."""
    rev = prefix[::-1].encode()
    total = sum(rev[0::2].translate(DOUBLED)) + sum(rev[1::2].translate(DIGIT))
    return prefix + str(-total % 10)


def pick(cum: list[float], u: float) -> int:
    return bisect.bisect_right(cum, u * cum[-1])


def cumulative(weights) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


def round_amount(m: float, u: float) -> int | float:
    # Real amounts mix round figures, whole euros and cents.
    if u < 0.35:
        return int(round(m, -3)) or 1000
    if u < 0.6:
        return int(round(m))
    return round(m, 2)
