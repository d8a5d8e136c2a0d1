"""Secret-keyed sampling: rate ≈ p, independent across secrets, deterministic, edge cases."""

from __future__ import annotations

import math
import os

import pytest

from challenger.sampling import DOMAIN_REEXEC, DOMAIN_ZK, SPACE, Sampler, sample, threshold

SECRET_A = bytes.fromhex("aa" * 32)
SECRET_B = bytes.fromhex("bb" * 32)
N = 20_000
KEYS = [i.to_bytes(32, "big") for i in range(N)]


def bounds(p: float, n: int = N, z: float = 5.0) -> tuple[float, float]:
    """A ±5σ binomial interval for the count of successes."""
    sd = math.sqrt(n * p * (1 - p))
    return n * p - z * sd, n * p + z * sd


@pytest.mark.parametrize("p", [0.001, 0.01, 0.05, 0.1, 0.5, 0.9])
def test_rate_is_p(p: float) -> None:
    count = sum(sample(SECRET_A, k, p) for k in KEYS)
    low, high = bounds(p)
    assert low <= count <= high, (p, count)


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_different_secrets_choose_independently(p: float) -> None:
    a = [sample(SECRET_A, k, p) for k in KEYS]
    b = [sample(SECRET_B, k, p) for k in KEYS]
    both = sum(x and y for x, y in zip(a, b, strict=True))
    low, high = bounds(p * p)
    assert low <= both <= high
    assert a != b


def test_domains_are_independent() -> None:
    a = [sample(SECRET_A, k, 0.5, DOMAIN_REEXEC) for k in KEYS[:2000]]
    b = [sample(SECRET_A, k, 0.5, DOMAIN_ZK) for k in KEYS[:2000]]
    low, high = bounds(0.25, 2000)
    assert low <= sum(x and y for x, y in zip(a, b, strict=True)) <= high


def test_deterministic_and_monotone() -> None:
    for k in KEYS[:500]:
        assert sample(SECRET_A, k, 0.3) == sample(SECRET_A, k, 0.3)
        if sample(SECRET_A, k, 0.2):
            assert sample(SECRET_A, k, 0.3)


@pytest.mark.parametrize(("p", "expected"), [(0.0, False), (1.0, True)])
def test_edges(p: float, expected: bool) -> None:
    assert all(sample(os.urandom(32), k, p) is expected for k in KEYS[:300])


@pytest.mark.parametrize(
    ("p", "limit"), [(0.0, 0), (1.0, SPACE), (0.5, SPACE // 2), (0.25, SPACE // 4)]
)
def test_threshold(p: float, limit: int) -> None:
    assert threshold(p) == limit


def test_refusals_and_secret_hidden() -> None:
    with pytest.raises(ValueError):
        threshold(1.5)
    with pytest.raises(ValueError):
        sample(b"short", b"k", 0.5)
    sampler = Sampler(SECRET_A, 0.1, 0.01)
    assert "aa" * 4 not in repr(sampler)
    assert sampler.reexec(KEYS[0]) == sample(SECRET_A, KEYS[0], 0.1)
    assert sampler.zk(KEYS[0]) == sample(SECRET_A, KEYS[0], 0.01, DOMAIN_ZK)
