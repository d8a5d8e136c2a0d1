"""
Differential test: Python's requantization and dot product against Solidity's ``QuantMath``.

A harness contract (``harness/QuantMathHarness.sol``, compiled here from its own source
directory with the project's compiler settings) exposes ``QuantMath``; more than 10,000 random and
edge cases go through ONE ``eth_call`` and must agree with ``protocol.requant`` bit for bit.
"""

from __future__ import annotations

from itertools import product
from pathlib import Path

import numpy as np
import pytest
from web3.contract import Contract

from deploy.compiler import CompiledContract, compile_contracts
from protocol import errors
from protocol.requant import MAX_SHIFT, MULTIPLIER_LIMIT, Activation, qlinear_row, requant
from tests import factories
from tests.integration.chain_env import ChainEnv

pytestmark = pytest.mark.anvil

HARNESS_DIR = Path(__file__).parent / "harness"
Z_LIMIT = 2**31  # |z| < 2^31 for a valid model
RANDOM_CASES = 9_000


@pytest.fixture(scope="module")
def harness_compiled() -> dict[str, CompiledContract]:
    compiled = compile_contracts(source_dirs=[HARNESS_DIR])
    assert set(compiled) == {"QuantMathHarness"}  # QuantMath is compiled in, not listed
    return compiled


@pytest.fixture
def harness(chain: ChainEnv, harness_compiled: dict[str, CompiledContract]) -> Contract:
    c = harness_compiled["QuantMathHarness"]
    address, _ = chain.deployer.deploy(c.abi, c.bytecode)
    return chain.deployer.contract(address, c.abi)


def _valid_z(z: int) -> bool:
    return -Z_LIMIT < z < Z_LIMIT


def edge_cases() -> list[tuple[int, int, int, int]]:
    cases: set[tuple[int, int, int, int]] = set()
    zs = [0, 1, -1, 2, -2, 127, -128, 2**30, -(2**30), Z_LIMIT - 1, -(Z_LIMIT - 1)]
    ms = [0, 1, 2, 3, 2**30, MULTIPLIER_LIMIT - 1]
    ks = [1, 2, 7, 8, 30, 31, 32, 33, 61, MAX_SHIFT]
    for z, m, k, act in product(zs, ms, ks, (0, 1)):
        cases.add((z, m, k, act))
    # Rounding and saturation boundaries: the smallest z whose q reaches t, and its neighbours.
    for m, k, t in product(
        [1, 3, 255, 12_345, 2**20 + 1, MULTIPLIER_LIMIT - 1],
        [1, 2, 8, 16, 24, 31, 40, 62],
        [-130, -129, -128, -127, -64, -1, 0, 1, 63, 126, 127, 128, 129],
    ):
        # q >= t  <=>  z*m + 2^(k-1) >= t*2^k  <=>  z >= ceil((t*2^k - 2^(k-1)) / m)
        z0 = -((-(t * 2**k - 2 ** (k - 1))) // m)
        for z in (z0 - 1, z0, z0 + 1):
            if _valid_z(z):
                for act in (0, 1):
                    cases.add((z, m, k, act))
    return sorted(cases)


def random_cases(rng: np.random.Generator, count: int) -> list[tuple[int, int, int, int]]:
    cases = []
    for i in range(count):
        k = int(rng.integers(1, MAX_SHIFT + 1))
        act = int(rng.integers(0, 2))
        if i % 3 == 0:
            # Anything valid: mostly saturating.
            m = int(rng.integers(0, MULTIPLIER_LIMIT))
            z = int(rng.integers(-(Z_LIMIT - 1), Z_LIMIT))
        else:
            # Aim at outputs around the int8 range, where rounding and clamping matter: a
            # multiplier (log-uniform) large enough that the aimed-at z stays below 2^31.
            while (low := -(-400 * 2**k // Z_LIMIT)) >= MULTIPLIER_LIMIT:
                k = int(rng.integers(1, 41))
            low = max(1, low)
            m = min(
                MULTIPLIER_LIMIT - 1,
                int(np.exp(rng.uniform(np.log(low), np.log(MULTIPLIER_LIMIT)))),
            )
            target = int(rng.integers(-200, 201))
            z = round(target * 2**k / m) + int(rng.integers(-3, 4))
            z = max(-(Z_LIMIT - 1), min(Z_LIMIT - 1, z))
        cases.append((z, m, k, act))
    return cases


def test_requant_agrees_on_ten_thousand_cases(harness: Contract) -> None:
    cases = edge_cases() + random_cases(factories.rng_for(2024), RANDOM_CASES)
    assert len(cases) >= 10_000
    zs, ms, ks, acts = (list(col) for col in zip(*cases, strict=True))
    expected = [requant(z, m, k, Activation(a)) for z, m, k, a in cases]
    # The cases cover every output class: both saturations, zero, and values in between.
    assert {-128, 0, 127}.issubset(expected)
    assert sum(1 for y in expected if -128 < y < 127 and y != 0) > 2_500
    assert any(z < 0 for z in zs) and 1 in ks and 0 in ms and MULTIPLIER_LIMIT - 1 in ms

    got = harness.functions.requantMany(zs, ms, ks, acts).call({"gas": 2**31})
    assert len(got) == len(cases)
    mismatches = [(c, e, g) for c, e, g in zip(cases, expected, got, strict=True) if e != g]
    assert mismatches == []


def test_requant_harness_detects_a_difference(harness: Contract) -> None:
    """Guard against a vacuous comparison: Solidity's answer changes with its inputs."""
    got = harness.functions.requantMany([255, 255, -255], [1, 1, 1], [1, 2, 1], [0, 0, 1]).call()
    assert list(got) == [127, 64, 0]


def test_dot_agrees_across_lengths(harness: Contract) -> None:
    rng = factories.rng_for(77)
    lengths = [0, 1, 31, 32, 33, 63, 64, 65, 100, 129]
    ws, xs, bs, expected = [], [], [], []
    for n in lengths:
        for _ in range(3):
            w = rng.integers(-128, 128, size=n, dtype=np.int16).astype(np.int8)
            x = rng.integers(-128, 128, size=n, dtype=np.int16).astype(np.int8)
            b = int(rng.integers(-(2**31), 2**31))
            ws.append(w.tobytes())
            xs.append(x.tobytes())
            bs.append(b)
            expected.append(int(w.astype(np.int64) @ x.astype(np.int64)) + b)
    # Extremes: every product at its maximum magnitude, both signs.
    for n, wv, xv in ((96, -128, -128), (96, -128, 127), (33, 127, 127)):
        ws.append(bytes([wv & 0xFF]) * n)
        xs.append(bytes([xv & 0xFF]) * n)
        bs.append(0)
        expected.append(n * wv * xv)
    got = harness.functions.dotMany(ws, xs, bs).call()
    assert list(got) == expected
    # And the full row semantics agree with the Python reference row function.
    w = rng.integers(-128, 128, size=70, dtype=np.int16).astype(np.int8)
    x = rng.integers(-128, 128, size=70, dtype=np.int16).astype(np.int8)
    z = harness.functions.dotOne(w.tobytes(), x.tobytes(), 1234).call()
    assert requant(z, 20_000, 20, Activation.NONE) == qlinear_row(
        w, 1234, x, 20_000, 20, Activation.NONE
    )


def test_dot_rejects_mismatched_lengths(chain: ChainEnv, harness: Contract) -> None:
    with pytest.raises(errors.DotLengthMismatch) as info:
        chain.call(harness.functions.dotOne(b"\x01" * 5, b"\x01" * 4, 0))
    assert info.value.values == {"weights": 5, "inputs": 4}
