"""Tests for sumkzg.transcript: the golden vector file, docs/proof-system.md §6 (v2: Z8)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.keccak import keccak256 as reference_keccak
from sumkzg.errors import TranscriptError
from sumkzg.field import R
from sumkzg.transcript import (
    DOMAIN_INFERENCE,
    DOMAIN_REGISTRATION,
    TAG_EVALUATIONS,
    TAG_FOLD_EVALUATIONS,
    TAG_FOLDS,
    TAG_LIBRA_QUOTIENT,
    TAG_LIBRA_SUM_COMMIT,
    TAG_ROUND1,
    TAG_ROUND2,
    TAG_STATEMENT,
    TAG_SUMCHECK_ROUND,
    TAG_WITNESSES,
    Transcript,
    keccak256,
)
from tests.vectors import generate

VECTOR_FILE = Path(generate.__file__).resolve().parent / "sumkzg_transcript.json"
FAST = settings(max_examples=30, deadline=None)


def unhex(value: str) -> bytes:
    assert value.startswith("0x")
    return bytes.fromhex(value[2:])


@pytest.fixture(scope="module")
def vectors() -> Any:
    return json.loads(VECTOR_FILE.read_text())


# --------------------------------------------------------------------------------------------------
# The golden file, replayed by the implementation and re-derived from the spec's text
# --------------------------------------------------------------------------------------------------


def test_constants() -> None:
    assert DOMAIN_REGISTRATION == b"SUMKZG-ML/v2/registration"
    assert DOMAIN_INFERENCE == b"SUMKZG-ML/v2/inference"
    tags = [
        TAG_STATEMENT,
        TAG_ROUND1,
        TAG_ROUND2,
        TAG_SUMCHECK_ROUND,
        TAG_EVALUATIONS,
        TAG_FOLDS,
        TAG_FOLD_EVALUATIONS,
        TAG_WITNESSES,
        TAG_LIBRA_SUM_COMMIT,
        TAG_LIBRA_QUOTIENT,
    ]
    assert tags == list(range(10))


def test_golden_file_replays(vectors: Any) -> None:
    assert unhex(vectors["r"]) == R.to_bytes(32, "big")
    assert len(vectors["cases"]) >= 4
    for case in vectors["cases"]:
        transcript = Transcript(unhex(case["domain"]))
        assert transcript.state == unhex(case["initial_state"])
        for op in case["ops"]:
            if "absorb" in op:
                transcript.absorb(op["absorb"]["tag"], unhex(op["absorb"]["data"]))
            else:
                value = transcript.challenge()
                assert value.to_bytes(32, "big") == unhex(op["challenge"])
                assert value < R
            assert transcript.state == unhex(op["state"])


def test_golden_file_matches_the_spec_text(vectors: Any) -> None:
    # An independent sponge written from docs/proof-system.md §6 with protocol.keccak.
    for case in vectors["cases"]:
        state = reference_keccak(unhex(case["domain"]))
        assert state == unhex(case["initial_state"])
        for op in case["ops"]:
            if "absorb" in op:
                data = unhex(op["absorb"]["data"])
                tag = op["absorb"]["tag"]
                state = reference_keccak(state + bytes([tag]) + len(data).to_bytes(4, "big") + data)
            else:
                h1 = reference_keccak(state + b"\xf1")
                h2 = reference_keccak(state + b"\xf2")
                state = reference_keccak(state + b"\xf0")
                expected = (int.from_bytes(h1, "big") * 2**256 + int.from_bytes(h2, "big")) % R
                assert int.from_bytes(unhex(op["challenge"]), "big") == expected
            assert state == unhex(op["state"])


def test_golden_file_covers_both_domains_and_every_tag(vectors: Any) -> None:
    domains = {unhex(case["domain"]) for case in vectors["cases"]}
    assert domains == {DOMAIN_REGISTRATION, DOMAIN_INFERENCE}
    tags = {
        op["absorb"]["tag"] for case in vectors["cases"] for op in case["ops"] if "absorb" in op
    }
    assert set(range(10)) <= tags


# --------------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------------


@given(st.binary(max_size=400))
@FAST
def test_fast_keccak_equals_the_reference(data: bytes) -> None:
    assert keccak256(data) == reference_keccak(data)


@pytest.mark.parametrize("length", [0, 1, 135, 136, 137, 272])
def test_fast_keccak_at_rate_boundaries(length: int) -> None:
    data = bytes(range(256))[:length] * 2
    assert keccak256(data[:length]) == reference_keccak(data[:length])


def state_after(*messages: tuple[int, bytes], domain: bytes = DOMAIN_INFERENCE) -> bytes:
    transcript = Transcript(domain)
    for tag, data in messages:
        transcript.absorb(tag, data)
    return transcript.state


def test_each_field_of_a_message_changes_the_state() -> None:
    base = state_after((1, b"abc"))
    assert state_after((2, b"abc")) != base  # tag
    assert state_after((1, b"abd")) != base  # data
    assert state_after((1, b"abc\x00")) != base  # length
    assert state_after((1, b"abc"), domain=DOMAIN_REGISTRATION) != base  # domain
    # Message boundaries are bound: one message is not two.
    assert state_after((1, b"ab"), (1, b"c")) != base
    assert state_after((1, b""), (1, b"abc")) != base
    # Order is bound.
    assert state_after((1, b"x"), (2, b"y")) != state_after((2, b"y"), (1, b"x"))


def test_challenge_depends_on_everything_before_it() -> None:
    a, b = Transcript(DOMAIN_INFERENCE), Transcript(DOMAIN_INFERENCE)
    a.absorb(0, b"statement")
    b.absorb(0, b"statemenT")
    assert a.challenge() != b.challenge()
    c = Transcript(DOMAIN_INFERENCE)
    first, second = c.challenge(), c.challenge()
    assert first != second


@given(st.lists(st.tuples(st.integers(0, 255), st.binary(max_size=64)), max_size=5))
@FAST
def test_challenges_are_canonical_and_deterministic(messages: list[tuple[int, bytes]]) -> None:
    a, b = Transcript(DOMAIN_REGISTRATION), Transcript(DOMAIN_REGISTRATION)
    for tag, data in messages:
        a.absorb(tag, data)
        b.absorb(tag, data)
    many = a.challenges(5)
    assert all(0 <= value < R for value in many)
    assert many == [b.challenge() for _ in range(5)]
    assert a.state == b.state


def test_bad_arguments_raise() -> None:
    transcript = Transcript(DOMAIN_INFERENCE)
    with pytest.raises(TranscriptError):
        transcript.absorb(256, b"")
    with pytest.raises(TranscriptError):
        transcript.absorb(-1, b"")
    with pytest.raises(TranscriptError):
        transcript.challenges(-1)
    assert transcript.challenges(0) == []
    assert transcript.state == keccak256(DOMAIN_INFERENCE)
