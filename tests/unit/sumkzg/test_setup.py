"""Tests for sumkzg.setup: the pinned file, its layout, the structure check, the toy setup."""

from __future__ import annotations

import hashlib
import time
from dataclasses import replace
from pathlib import Path

import pytest
from py_arkworks_bls12381 import G1Point, G2Point

from sumkzg import setup as setup_impl
from sumkzg.curve import g1_generator, g1_mul, g2_generator, g2_mul
from sumkzg.errors import SetupError
from sumkzg.field import R
from sumkzg.setup import (
    LOG_D,
    SETUP_ID,
    D,
    Setup,
    check_setup_structure,
    default_setup_path,
    load_setup,
    toy_setup_for_tests,
)


@pytest.fixture(scope="module")
def setup() -> Setup:
    return load_setup()


def file_lines() -> list[str]:
    return default_setup_path().read_text().splitlines()


def test_constants() -> None:
    assert (D, LOG_D) == (4096, 12)
    assert 1 << LOG_D == D
    assert SETUP_ID.hex() == "d39b9f2d047cc9dca2de58f264b6a09448ccd34db967881a6713eacacf0f26b7"


def test_pinned_file_hash() -> None:
    assert hashlib.sha256(default_setup_path().read_bytes()).digest() == SETUP_ID


def test_default_path_and_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("OPZK_TRUSTED_SETUP", raising=False)
    repo_root = Path(setup_impl.__file__).resolve().parents[1]
    assert default_setup_path() == repo_root / "node_modules/c-kzg/deps/c-kzg/trusted_setup.txt"
    monkeypatch.setenv("OPZK_TRUSTED_SETUP", str(tmp_path / "other.txt"))
    assert default_setup_path() == tmp_path / "other.txt"


def test_loaded_setup(setup: Setup) -> None:
    assert setup.setup_id == SETUP_ID
    assert len(setup.g1) == D
    assert (setup.size, setup.num_vars) == (D, LOG_D)
    assert setup.g1[0] == g1_generator()
    assert setup.h0 == g2_generator()
    assert setup.h1 not in (setup.h0, G2Point.identity())
    assert load_setup() is setup  # cached
    check_setup_structure(setup)  # a fresh random combination passes again


def test_file_layout_is_the_one_documented() -> None:
    # Two count lines, 4096 Lagrange G1, 65 G2 monomial, 4096 G1 monomial; the G1 monomial section
    # starts with the generator, the Lagrange one does not, and the G2 section starts with [1]₂.
    lines = file_lines()
    assert lines[:2] == ["4096", "65"]
    assert len(lines) == 2 + 4096 + 65 + 4096
    assert all(len(line) == 96 for line in lines[2 : 2 + 4096])
    assert all(len(line) == 192 for line in lines[2 + 4096 : 2 + 4096 + 65])
    assert all(len(line) == 96 for line in lines[2 + 4096 + 65 :])
    assert G1Point.from_compressed_bytes(bytes.fromhex(lines[2 + 4096 + 65])) == g1_generator()
    assert G1Point.from_compressed_bytes(bytes.fromhex(lines[2])) != g1_generator()
    assert G2Point.from_compressed_bytes(bytes.fromhex(lines[2 + 4096])) == g2_generator()


def test_the_lagrange_section_fails_the_structure_check(setup: Setup) -> None:
    lines = file_lines()
    lagrange = tuple(G1Point.from_compressed_bytes(bytes.fromhex(x)) for x in lines[2 : 2 + 4096])
    with pytest.raises(SetupError):
        check_setup_structure(replace(setup, g1=(g1_generator(), *lagrange[1:])))


def test_another_file_is_refused(tmp_path: Path) -> None:
    raw = bytearray(default_setup_path().read_bytes())
    index = raw.index(b"\n", raw.index(b"\n") + 1) + 5  # a hex digit of the first point
    raw[index] = ord("0") if raw[index] != ord("0") else ord("1")
    other = tmp_path / "trusted_setup.txt"
    other.write_bytes(bytes(raw))
    with pytest.raises(SetupError) as caught:
        load_setup(other)
    message = str(caught.value)
    assert SETUP_ID.hex() in message
    assert hashlib.sha256(bytes(raw)).hexdigest() in message


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SetupError):
        load_setup(tmp_path / "absent.txt")


def test_a_copy_of_the_file_loads(tmp_path: Path) -> None:
    copy = tmp_path / "copy.txt"
    copy.write_bytes(default_setup_path().read_bytes())
    started = time.perf_counter()
    loaded = load_setup(copy)
    elapsed = time.perf_counter() - started
    assert loaded.setup_id == SETUP_ID
    assert elapsed < 5.0  # about 0.5 s on the 2-core dev machine


def test_parse_refuses_malformed_text() -> None:
    lines = file_lines()
    for bad in (
        ["4095", *lines[1:]],
        lines[:-1],
        [*lines, lines[-1]],
        [*lines[:-1], "zz" * 48],
        [*lines[:-1], "00" * 48],  # a compressed encoding without its flag bit
    ):
        with pytest.raises(SetupError):
            setup_impl._parse("\n".join(bad).encode())


def test_structure_check_rejects_tampering(setup: Setup) -> None:
    g1 = list(setup.g1)
    g1[100], g1[101] = g1[101], g1[100]
    with pytest.raises(SetupError, match="powers"):
        check_setup_structure(replace(setup, g1=tuple(g1)))
    with pytest.raises(SetupError, match="powers"):
        check_setup_structure(replace(setup, h1=g2_mul(setup.h1, 2)))
    with pytest.raises(SetupError, match="G\\[0\\]"):
        check_setup_structure(replace(setup, g1=(g1_mul(g1_generator(), 2), *setup.g1[1:])))
    with pytest.raises(SetupError, match="H0"):
        check_setup_structure(replace(setup, h0=g2_mul(g2_generator(), 2)))


def test_structure_check_rejects_tau_zero() -> None:
    # τ = 0 makes every other point the identity: the pairing equation alone would hold.
    degenerate = Setup(
        g1=(g1_generator(), *[G1Point.identity()] * 7),
        h0=g2_generator(),
        h1=G2Point.identity(),
        setup_id=bytes(32),
    )
    with pytest.raises(SetupError, match="identity"):
        check_setup_structure(degenerate)


def test_toy_setup() -> None:
    tau = 0x1234_5678_9ABC_DEF0
    toy = toy_setup_for_tests(tau, 64)
    check_setup_structure(toy)
    assert toy.setup_id == bytes(32)
    assert (toy.size, toy.num_vars) == (64, 6)
    assert toy.h1 == g2_mul(toy.h0, tau)
    assert toy.h0 == g2_generator()
    for k in (0, 1, 2, 63):
        assert toy.g1[k] == g1_mul(g1_generator(), pow(tau, k, R))
    with pytest.raises(ValueError):
        toy_setup_for_tests(tau, 48)
    assert toy_setup_for_tests(tau, 64) is toy
