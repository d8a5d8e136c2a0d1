"""
Tests for sumkzg.hyperkzg (the four-point opening of docs/proof-system-zk.md Z7): completeness,
every mutation of a proof, cheating provers, encoding.

The opening always carries the three Libra polynomials ``Lib̂, Â, Q̂``; here they are arbitrary
polynomials with their commitments (the opening does not check the Libra identity; test_libra.py
does). The real setup is used for completeness and the mutation battery; cheating provers that do
not use the trapdoor run on a small toy setup (they never look at τ, so the size does not help
them), and one test shows that with the trapdoor the same cheat passes, so it is the pairing that
stops it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from py_arkworks_bls12381 import G1Point

from sumkzg.curve import commit, decode_g1_unchecked, encode_g1, g1_generator, g1_mul, g2_mul
from sumkzg.errors import EncodingError, OpeningRejected, ProofRejected, TranscriptError
from sumkzg.field import R, eq_eval, inv, mle_eval
from sumkzg.hyperkzg import (
    OpeningProof,
    divide_by_linear,
    fold_tables,
    open_multilinear,
    opening_byte_len,
    opening_points,
    poly_eval,
    poly_eval_pm_sq,
    verify_opening,
)
from sumkzg.libra import OMEGA, N
from sumkzg.setup import LOG_D, Setup, load_setup, toy_setup_for_tests
from sumkzg.transcript import (
    DOMAIN_INFERENCE,
    TAG_FOLD_EVALUATIONS,
    TAG_FOLDS,
    TAG_WITNESSES,
    Transcript,
)

TOY_TAU = 0xC0FFEE_1234_5678
TOY_SIZE = 64
TOY_VARS = 6


def fresh() -> Transcript:
    transcript = Transcript(DOMAIN_INFERENCE)
    transcript.absorb(0, b"test statement")
    return transcript


def random_vector(rng: random.Random, length: int) -> list[int]:
    return [rng.randrange(R) for _ in range(length)]


def extra_polys(rng: random.Random, lengths: Sequence[int]) -> tuple[list[int], ...]:
    """Arbitrary stand-ins for ``Lib̂, Â, Q̂``."""
    return tuple(random_vector(rng, length) for length in lengths)


REAL_EXTRA_LENGTHS = (N + 2, N + 3, 2 * N)  # the lengths of Lib̂, Â, Q̂ in a proof


class Opening:
    """An honest opening (with stand-in Libra polynomials) and everything needed to verify it."""

    def __init__(
        self,
        setup: Setup,
        coeffs: list[int],
        point: list[int],
        extras: Sequence[list[int]] | None = None,
    ) -> None:
        self.setup = setup
        self.coeffs = coeffs
        self.point = point
        if extras is None:
            size = setup.size
            lengths = REAL_EXTRA_LENGTHS if size >= 2 * N else (size // 2, size // 2 + 1, size)
            extras = extra_polys(random.Random(len(coeffs) + sum(point)), lengths)
        self.extras = [list(e) for e in extras]
        self.extra_commitments = tuple(commit(setup, e) for e in self.extras)
        self.commitment = commit(setup, coeffs)
        self.value = mle_eval(coeffs, point)
        prover_transcript = fresh()
        lib, a, q = self.extras
        self.proof = open_multilinear(
            setup, coeffs, point, prover_transcript, lib_hat=lib, a_hat=a, q_hat=q
        )
        self.final_state = prover_transcript.state

    def verify(
        self,
        *,
        proof: OpeningProof | None = None,
        commitment: G1Point | None = None,
        point: Sequence[int] | None = None,
        value: int | None = None,
        setup: Setup | None = None,
        transcript: Transcript | None = None,
        extra_commitments: Sequence[G1Point] | None = None,
    ) -> int:
        c_lib, c_a, c_q = (
            extra_commitments if extra_commitments is not None else self.extra_commitments
        )
        return verify_opening(
            setup if setup is not None else self.setup,
            commitment if commitment is not None else self.commitment,
            point if point is not None else self.point,
            value if value is not None else self.value,
            proof if proof is not None else self.proof,
            transcript if transcript is not None else fresh(),
            c_lib=c_lib,
            c_a=c_a,
            c_q=c_q,
        )


@pytest.fixture(scope="module")
def real_setup() -> Setup:
    return load_setup()


@pytest.fixture(scope="module")
def toy() -> Setup:
    return toy_setup_for_tests(TOY_TAU, TOY_SIZE)


@pytest.fixture(scope="module")
def honest(real_setup: Setup) -> Opening:
    rng = random.Random(11)
    return Opening(real_setup, random_vector(rng, 4096), random_vector(rng, LOG_D))


# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------


def test_poly_helpers() -> None:
    rng = random.Random(1)
    coeffs = random_vector(rng, 37)
    s, t = rng.randrange(R), rng.randrange(R)
    assert poly_eval(coeffs, s) == sum(c * pow(s, k, R) for k, c in enumerate(coeffs)) % R
    assert poly_eval_pm_sq(coeffs, s) == (
        poly_eval(coeffs, s),
        poly_eval(coeffs, R - s),
        poly_eval(coeffs, s * s % R),
    )
    quotient = divide_by_linear(coeffs, s)
    assert len(quotient) == 36
    # P(t) − P(s) = Q(t)·(t − s) at a random t.
    assert (poly_eval(coeffs, t) - poly_eval(coeffs, s)) % R == poly_eval(quotient, t) * (t - s) % R
    assert divide_by_linear([5], s) == []
    assert poly_eval([], s) == 0


def test_fold_tables_preserve_the_evaluation() -> None:
    rng = random.Random(2)
    coeffs = random_vector(rng, 50)
    point = random_vector(rng, 6)
    tables = fold_tables(coeffs, point)
    assert [len(t) for t in tables] == [64, 32, 16, 8, 4, 2]
    for i, table in enumerate(tables):
        assert mle_eval(table, point[i:]) == mle_eval(coeffs, point)
    with pytest.raises(ValueError):
        fold_tables([0] * 65, point)


# --------------------------------------------------------------------------------------------------
# Completeness
# --------------------------------------------------------------------------------------------------


def test_completeness_real_setup(honest: Opening) -> None:
    verifier_transcript = fresh()
    beta = honest.verify(transcript=verifier_transcript)
    assert verifier_transcript.state == honest.final_state
    assert len(honest.proof.to_bytes()) == OpeningProof.BYTE_LEN == opening_byte_len(12)
    assert OpeningProof.BYTE_LEN == 11 * 128 + 36 * 32 + 4 * 32 + 4 * 128 == 3200
    # The returned β is the challenge the extra evaluations were taken at.
    lib, a, q = honest.extras
    assert honest.proof.libra_evals == (
        poly_eval(lib, beta),
        poly_eval(a, beta),
        poly_eval(q, beta),
        poly_eval(a, OMEGA * beta % R),
    )
    assert opening_points(beta) == (beta, R - beta, beta * beta % R, OMEGA * beta % R)


def test_completeness_with_zero_or_maximal_extras(real_setup: Setup) -> None:
    rng = random.Random(77)
    coeffs, point = random_vector(rng, 4096), random_vector(rng, LOG_D)
    Opening(real_setup, coeffs, point, extras=([], [0], [R - 1] * 4096)).verify()
    Opening(real_setup, coeffs, point, extras=([5] * 4096, [R - 1] * 4096, [1])).verify()


@pytest.mark.parametrize("case", ["short", "zero", "max", "boolean point"])
def test_completeness_special_cases(real_setup: Setup, case: str) -> None:
    rng = random.Random(case)
    coeffs = {
        "short": random_vector(rng, 100),
        "zero": [0] * 4096,
        "max": [R - 1] * 4096,
        "boolean point": random_vector(rng, 4096),
    }[case]
    if case == "boolean point":
        point = [rng.randrange(2) for _ in range(LOG_D)]
    else:
        point = random_vector(rng, LOG_D)
        point[0], point[-1] = 0, 1
    opening = Opening(real_setup, coeffs, point)
    opening.verify()
    if case == "boolean point":
        index = sum(bit << v for v, bit in enumerate(point))
        assert opening.value == coeffs[index]


@given(st.data())
@settings(max_examples=20, deadline=None)
def test_completeness_toy_setup(data: st.DataObject) -> None:
    toy = toy_setup_for_tests(TOY_TAU, 16)
    coeffs = data.draw(st.lists(st.integers(0, R - 1), max_size=16))
    point = data.draw(st.lists(st.integers(0, R - 1), min_size=4, max_size=4))
    Opening(toy, coeffs, point).verify()


def test_completeness_one_variable() -> None:
    toy = toy_setup_for_tests(TOY_TAU, 2)
    opening = Opening(toy, [3, 10], [5], extras=([1, 2], [3], [4, 5]))
    assert opening.value == 3 + 5 * 7
    assert opening.proof.folds == ()
    opening.verify()
    assert OpeningProof.from_bytes(opening.proof.to_bytes(), num_vars=1) == opening.proof


# --------------------------------------------------------------------------------------------------
# Mutations of an honest proof and of the claim
# --------------------------------------------------------------------------------------------------


def rejected(opening: Opening, **changes: object) -> None:
    with pytest.raises(OpeningRejected):
        opening.verify(**changes)  # type: ignore[arg-type]


def test_every_fold_replaced_is_rejected(honest: Opening) -> None:
    proof = honest.proof
    other = g1_mul(g1_generator(), 987654321)
    for i in range(len(proof.folds)):
        for replacement in (other, proof.folds[i] + g1_generator(), G1Point.identity()):
            folds = list(proof.folds)
            folds[i] = replacement
            rejected(honest, proof=replace(proof, folds=tuple(folds)))
        if i + 1 < len(proof.folds):
            folds = list(proof.folds)
            folds[i], folds[i + 1] = folds[i + 1], folds[i]
            rejected(honest, proof=replace(proof, folds=tuple(folds)))


def test_every_evaluation_plus_one_is_rejected(honest: Opening) -> None:
    proof = honest.proof
    for i in range(len(proof.evals)):
        for j in range(3):
            row = list(proof.evals[i])
            row[j] = (row[j] + 1) % R
            evals = list(proof.evals)
            evals[i] = (row[0], row[1], row[2])
            rejected(honest, proof=replace(proof, evals=tuple(evals)))


def test_every_evaluation_swap_is_rejected(honest: Opening) -> None:
    proof = honest.proof
    for i in range(len(proof.evals)):
        a, b, c = proof.evals[i]
        for row in ((b, a, c), (a, c, b), (c, b, a)):
            evals = list(proof.evals)
            evals[i] = row
            rejected(honest, proof=replace(proof, evals=tuple(evals)))
        if i + 1 < len(proof.evals):
            evals = list(proof.evals)
            evals[i], evals[i + 1] = evals[i + 1], evals[i]
            rejected(honest, proof=replace(proof, evals=tuple(evals)))
    # A fold evaluation swapped with a Libra evaluation.
    lib_b, a_b, q_b, a_wb = proof.libra_evals
    first = proof.evals[0]
    swapped = ((lib_b, first[1], first[2]), *proof.evals[1:])
    rejected(
        honest,
        proof=replace(proof, evals=swapped, libra_evals=(first[0], a_b, q_b, a_wb)),
    )


def test_every_libra_evaluation_changed_is_rejected(honest: Opening) -> None:
    proof = honest.proof
    values = proof.libra_evals
    variants: list[tuple[int, int, int, int]] = []
    for j in range(4):
        for change in (1, R - 1, 0):
            changed = list(values)
            changed[j] = (changed[j] + change) % R if change else 0
            variants.append((changed[0], changed[1], changed[2], changed[3]))
    for j in range(4):  # every swap of two values
        for k in range(j + 1, 4):
            changed = list(values)
            changed[j], changed[k] = changed[k], changed[j]
            variants.append((changed[0], changed[1], changed[2], changed[3]))
    for libra_evals in variants:
        assert libra_evals != values
        rejected(honest, proof=replace(proof, libra_evals=libra_evals))


def test_every_extra_commitment_changed_is_rejected(honest: Opening) -> None:
    c = honest.extra_commitments
    for j in range(3):
        for replacement in (c[j] + g1_generator(), G1Point.identity(), honest.commitment):
            changed = list(c)
            changed[j] = replacement
            rejected(honest, extra_commitments=changed)
    rejected(honest, extra_commitments=[c[1], c[0], c[2]])
    rejected(honest, extra_commitments=[c[0], c[2], c[1]])
    rejected(honest, extra_commitments=[c[2], c[1], c[0]])


def test_every_witness_replaced_or_swapped_is_rejected(honest: Opening) -> None:
    proof = honest.proof
    w = proof.witnesses
    variants: list[tuple[G1Point, G1Point, G1Point, G1Point]] = []

    def add(changed: list[G1Point]) -> None:
        variants.append((changed[0], changed[1], changed[2], changed[3]))

    for j in range(4):  # every swap of two witnesses, and a rotation
        for k in range(j + 1, 4):
            changed = list(w)
            changed[j], changed[k] = changed[k], changed[j]
            add(changed)
    add([w[1], w[2], w[3], w[0]])
    for j in range(4):
        for replacement in (w[j] + g1_generator(), G1Point.identity(), proof.folds[0]):
            changed = list(w)
            changed[j] = replacement
            add(changed)
    for witnesses in variants:
        rejected(honest, proof=replace(proof, witnesses=witnesses))


def test_wrong_claims_are_rejected(honest: Opening, real_setup: Setup) -> None:
    rejected(honest, value=(honest.value + 1) % R)
    rejected(honest, value=0)
    for v in range(LOG_D):
        point = list(honest.point)
        point[v] = (point[v] + 1) % R
        rejected(honest, point=point)
    rejected(honest, commitment=honest.commitment + g1_generator())
    rejected(honest, commitment=G1Point.identity())
    other = list(honest.coeffs)
    other[4095] = (other[4095] + 1) % R
    rejected(honest, commitment=commit(real_setup, other))


def test_a_different_transcript_is_rejected(honest: Opening) -> None:
    rejected(honest, transcript=Transcript(DOMAIN_INFERENCE))


def test_wrong_shapes_are_rejected(honest: Opening) -> None:
    proof = honest.proof
    rejected(honest, proof=replace(proof, folds=proof.folds[:-1]))
    rejected(honest, proof=replace(proof, evals=proof.evals[:-1]))
    pair = proof.evals[-1][:2]  # a row of two evaluations, not three
    rejected(honest, proof=replace(proof, evals=(*proof.evals[:-1], pair)))  # type: ignore[arg-type]
    rejected(honest, proof=replace(proof, witnesses=proof.witnesses[:3]))  # type: ignore[arg-type]
    rejected(honest, proof=replace(proof, libra_evals=proof.libra_evals[:3]))  # type: ignore[arg-type]
    rejected(honest, point=honest.point[:-1])
    rejected(honest, point=[*honest.point, 0])


def test_non_canonical_scalars_are_encoding_errors(honest: Opening) -> None:
    proof = honest.proof
    row = proof.evals[0]
    bad = replace(proof, evals=((row[0] + R, row[1], row[2]), *proof.evals[1:]))
    with pytest.raises(EncodingError):
        honest.verify(proof=bad)
    lib, a, q, a_w = proof.libra_evals
    with pytest.raises(EncodingError):
        honest.verify(proof=replace(proof, libra_evals=(lib, a, q, a_w + R)))
    with pytest.raises(EncodingError):
        honest.verify(value=honest.value + R)


def test_a_wrong_h1_makes_honest_proofs_fail(honest: Opening, toy: Setup) -> None:
    rejected(honest, setup=replace(honest.setup, h1=honest.setup.h1 + honest.setup.h0))
    opening = Opening(toy, random_vector(random.Random(3), TOY_SIZE), [7] * TOY_VARS)
    opening.verify()
    rejected(opening, setup=replace(toy, h1=g2_mul(toy.h0, TOY_TAU + 1)))


class FixedFirstChallenge(Transcript):
    """A transcript whose first challenge is ``first`` (to reach the β = 0 and β ∈ H branches)."""

    def __init__(self, first: int) -> None:
        super().__init__(DOMAIN_INFERENCE)
        self.absorb(0, b"test statement")
        self.first = first
        self.calls = 0

    def challenge(self) -> int:
        self.calls += 1
        value = super().challenge()
        return self.first if self.calls == 1 else value


def open_toy(toy: Setup, transcript: Transcript) -> OpeningProof:
    return open_multilinear(
        toy, [1, 2, 3], [5] * TOY_VARS, transcript, lib_hat=[1], a_hat=[2], q_hat=[3]
    )


def test_beta_zero(honest: Opening, toy: Setup) -> None:
    with pytest.raises(OpeningRejected, match="β = 0"):
        honest.verify(transcript=FixedFirstChallenge(0))
    with pytest.raises(TranscriptError):
        open_toy(toy, FixedFirstChallenge(0))


@pytest.mark.parametrize("k", [0, 1, 5, N // 2, N - 1])
def test_beta_in_the_subgroup(honest: Opening, toy: Setup, k: int) -> None:
    beta = pow(OMEGA, k, R)
    with pytest.raises(OpeningRejected, match=r"β\^N = 1"):
        honest.verify(transcript=FixedFirstChallenge(beta))
    with pytest.raises(TranscriptError, match=r"β\^N = 1"):
        open_toy(toy, FixedFirstChallenge(beta))


def test_prover_refuses_bad_arguments(toy: Setup) -> None:
    extras = {"lib_hat": [1], "a_hat": [2], "q_hat": [3]}
    with pytest.raises(ValueError):
        open_multilinear(toy, [1], [0] * (TOY_VARS - 1), fresh(), **extras)
    with pytest.raises(ValueError):
        open_multilinear(toy, [1] * (TOY_SIZE + 1), [0] * TOY_VARS, fresh(), **extras)
    for name in extras:
        too_long = {**extras, name: [1] * (TOY_SIZE + 1)}
        with pytest.raises(ValueError):
            open_multilinear(toy, [1], [0] * TOY_VARS, fresh(), **too_long)


# --------------------------------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------------------------------


def test_bytes_round_trip(honest: Opening) -> None:
    data = honest.proof.to_bytes()
    decoded = OpeningProof.from_bytes(data)
    assert decoded == honest.proof
    assert decoded.to_bytes() == data
    honest.verify(proof=decoded)
    # Layout: folds, then the evaluations row-major, the Libra evaluations, then the witnesses.
    assert data[:128] == encode_g1(honest.proof.folds[0])
    assert data[11 * 128 : 11 * 128 + 32] == honest.proof.evals[0][0].to_bytes(32, "big")
    assert data[11 * 128 + 32 : 11 * 128 + 64] == honest.proof.evals[0][1].to_bytes(32, "big")
    libra_at = 11 * 128 + 36 * 32
    for j, value in enumerate(honest.proof.libra_evals):
        assert data[libra_at + 32 * j : libra_at + 32 * j + 32] == value.to_bytes(32, "big")
    for j, witness in enumerate(honest.proof.witnesses):
        assert data[libra_at + 128 + 128 * j : libra_at + 256 + 128 * j] == encode_g1(witness)
    assert len(data) == libra_at + 128 + 4 * 128
    # The tag-0x06 message is the fold evaluations followed by the Libra evaluations.
    assert honest.proof.evals_bytes() == data[11 * 128 : libra_at + 128]


@pytest.mark.parametrize("delta", [-129, -128, -32, -1, 1, 32, 128])
def test_from_bytes_strict_length(honest: Opening, delta: int) -> None:
    data = honest.proof.to_bytes()
    data = data[:delta] if delta < 0 else data + bytes(delta)
    with pytest.raises(EncodingError):
        OpeningProof.from_bytes(data)
    with pytest.raises(EncodingError):
        OpeningProof.from_bytes(b"")


def test_from_bytes_rejects_bad_fields(honest: Opening) -> None:
    data = bytearray(honest.proof.to_bytes())
    evals_at = 11 * 128
    for index in (0, 17, 35, 36, 39):  # a few evaluations (and Libra evaluations) set to r
        bad = bytearray(data)
        bad[evals_at + 32 * index : evals_at + 32 * index + 32] = R.to_bytes(32, "big")
        with pytest.raises(EncodingError):
            OpeningProof.from_bytes(bytes(bad))
    outside = (0).to_bytes(64, "big") + (2).to_bytes(64, "big")  # on the curve, not in G1
    assert not decode_g1_unchecked(outside).is_in_subgroup()
    for offset in (0, 5 * 128, len(data) - 4 * 128, len(data) - 128):  # a fold, a witness
        bad = bytearray(data)
        bad[offset : offset + 128] = outside
        with pytest.raises(EncodingError):
            OpeningProof.from_bytes(bytes(bad))
        bad = bytearray(data)
        bad[offset + 3] = 1  # padding
        with pytest.raises(EncodingError) as caught:
            OpeningProof.from_bytes(bytes(bad))
        assert isinstance(caught.value, ProofRejected)


# --------------------------------------------------------------------------------------------------
# Cheating provers: commit Q honestly, claim Q̃(x) + 1 (or a wrong Libra evaluation)
# --------------------------------------------------------------------------------------------------


Evals = list[tuple[int, int, int]]
EvalTweak = Callable[[Evals, int], Evals]
LibraTweak = Callable[[list[int]], list[int]]
TOY_EXTRAS = ([3, 1, 4, 1, 5], [9, 2, 6, 5, 3, 5], [8, 9, 7, 9])


def toy_extra_commitments(setup: Setup) -> dict[str, G1Point]:
    lib, a, q = (commit(setup, e) for e in TOY_EXTRAS)
    return {"c_lib": lib, "c_a": a, "c_q": q}


def forge(
    setup: Setup,
    committed: list[list[int]],
    point: list[int],
    transcript: Transcript,
    *,
    tweak: EvalTweak | None = None,
    libra_tweak: LibraTweak | None = None,
    trapdoor: int | None = None,
) -> OpeningProof:
    """
    A prover that commits ``committed[1:]`` as folds, sends their evaluations (changed by
    ``tweak``) and the Libra evaluations of :data:`TOY_EXTRAS` (changed by ``libra_tweak``), and
    quotient witnesses for the claimed evaluations (remainder dropped, or exact with the
    ``trapdoor``).
    """
    folds = tuple(commit(setup, table) for table in committed[1:])
    transcript.absorb(TAG_FOLDS, b"".join(encode_g1(c) for c in folds))
    beta = transcript.challenge()
    points = opening_points(beta)
    evals = [poly_eval_pm_sq(table, beta) for table in committed]
    if tweak is not None:
        evals = tweak(evals, beta)
    lib, a_hat, q_hat = TOY_EXTRAS
    libra = [
        poly_eval(lib, beta),
        poly_eval(a_hat, beta),
        poly_eval(q_hat, beta),
        poly_eval(a_hat, points[3]),
    ]
    if libra_tweak is not None:
        libra = libra_tweak(libra)
    transcript.absorb(
        TAG_FOLD_EVALUATIONS,
        b"".join(e.to_bytes(32, "big") for row in evals for e in row)
        + b"".join(e.to_bytes(32, "big") for e in libra),
    )
    q = transcript.challenge()
    d = len(committed)
    size = len(committed[0])
    weights = [pow(q, i, R) for i in range(d + 3)]
    batched = [0] * size
    for weight, table in zip(weights[:d], committed, strict=True):
        for i, c in enumerate(table):
            batched[i] = (batched[i] + weight * c) % R
    first = list(batched)
    for weight, poly in zip(weights[d:], TOY_EXTRAS, strict=True):
        for i, c in enumerate(poly):
            first[i] = (first[i] + weight * c) % R
    polys = (first, batched, batched, a_hat)
    claimed = [0, 0, 0, libra[3]]
    for weight, row in zip(weights[:d], evals, strict=True):
        for j in range(3):
            claimed[j] = (claimed[j] + weight * row[j]) % R
    claimed[0] = (claimed[0] + sum(w * v for w, v in zip(weights[d:], libra[:3], strict=True))) % R
    if trapdoor is None:
        witnesses = tuple(
            commit(setup, divide_by_linear(p, s)) for p, s in zip(polys, points, strict=True)
        )
    else:
        witnesses = tuple(
            g1_mul(g1_generator(), (poly_eval(p, trapdoor) - c) * inv(trapdoor - s))
            for p, c, s in zip(polys, claimed, points, strict=True)
        )
    transcript.absorb(TAG_WITNESSES, b"".join(encode_g1(w) for w in witnesses))
    transcript.challenge()
    return OpeningProof(
        folds=folds,
        evals=tuple(evals),
        libra_evals=(libra[0], libra[1], libra[2], libra[3]),
        witnesses=witnesses,  # type: ignore[arg-type]
    )


def shift_last_fold(
    evals: list[tuple[int, int, int]], beta: int, x: int
) -> list[tuple[int, int, int]]:
    """Change P_{d−1}(β) so that the last fold check yields Q̃(x) + 1."""
    # Y = (1 − x)(a + b)/2 + x(a − b)/(2β); ∂Y/∂a = (1 − x)/2 + x/(2β).
    slope = ((1 - x) * inv(2) + x * inv(2 * beta)) % R
    a, b, c = evals[-1]
    return [*evals[:-1], ((a + inv(slope)) % R, b, c)]


@pytest.fixture(scope="module")
def cheat_case(toy: Setup) -> tuple[list[int], list[int], int, G1Point]:
    rng = random.Random(21)
    coeffs = random_vector(rng, TOY_SIZE)
    point = random_vector(rng, TOY_VARS)
    return coeffs, point, (mle_eval(coeffs, point) + 1) % R, commit(toy, coeffs)


def lie_polynomial(coeffs: list[int], point: list[int]) -> list[int]:
    """Q′ = Q + c·e_0 with Q̃′(x) = Q̃(x) + 1."""
    lie = list(coeffs)
    lie[0] = (lie[0] + inv(eq_eval(point, [0] * len(point)))) % R
    return lie


def verify_toy(
    toy: Setup, commitment: G1Point, point: list[int], value: int, proof: OpeningProof
) -> int:
    return verify_opening(
        toy, commitment, point, value, proof, fresh(), **toy_extra_commitments(toy)
    )


def test_forge_without_tweaks_is_honest(toy: Setup, cheat_case: tuple) -> None:  # type: ignore[type-arg]
    coeffs, point, lie_value, commitment = cheat_case
    proof = forge(toy, fold_tables(coeffs, point), point, fresh())
    verify_toy(toy, commitment, point, (lie_value - 1) % R, proof)
    lib, a, q = TOY_EXTRAS
    assert proof == open_multilinear(toy, coeffs, point, fresh(), lib_hat=lib, a_hat=a, q_hat=q)


def test_cheat_folds_of_another_polynomial(toy: Setup, cheat_case: tuple) -> None:  # type: ignore[type-arg]
    coeffs, point, lie_value, commitment = cheat_case
    lie = lie_polynomial(coeffs, point)
    assert mle_eval(lie, point) == lie_value
    honest_tables = fold_tables(coeffs, point)
    lie_tables = fold_tables(lie, point)
    # Every fold from Q′ (evaluations consistent with Q′): the pairing catches it.
    proof = forge(toy, lie_tables, point, fresh())
    with pytest.raises(OpeningRejected, match="pairing"):
        verify_toy(toy, commitment, point, lie_value, proof)
    # Q for the first k levels, Q′ after: a fold check catches it, at level k − 1.
    for k in range(1, TOY_VARS):
        proof = forge(toy, honest_tables[:k] + lie_tables[k:], point, fresh())
        with pytest.raises(OpeningRejected, match=f"fold {k - 1}"):
            verify_toy(toy, commitment, point, lie_value, proof)


def test_cheat_tweaked_evaluations(toy: Setup, cheat_case: tuple) -> None:  # type: ignore[type-arg]
    coeffs, point, lie_value, commitment = cheat_case
    tables = fold_tables(coeffs, point)

    def tweak(evals: Evals, beta: int) -> Evals:
        return shift_last_fold(evals, beta, point[-1])

    proof = forge(toy, tables, point, fresh(), tweak=tweak)
    with pytest.raises(OpeningRejected, match="pairing"):
        verify_toy(toy, commitment, point, lie_value, proof)

    # Tweak P_0's evaluations instead (everything above is honest): fold 0 fails.
    def tweak_first(evals: Evals, beta: int) -> Evals:
        a, b, c = evals[0]
        return [((a + 1) % R, (b + 1) % R, c), *evals[1:]]

    proof = forge(toy, tables, point, fresh(), tweak=tweak_first)
    with pytest.raises(OpeningRejected):
        verify_toy(toy, commitment, point, lie_value, proof)


@pytest.mark.parametrize("index", range(4))
def test_cheat_tweaked_libra_evaluation(toy: Setup, cheat_case: tuple, index: int) -> None:  # type: ignore[type-arg]
    # The fold evaluations are honest; one Libra evaluation is a lie, the witnesses are honest
    # quotients of the committed polynomials (remainder dropped): the pairing catches it.
    coeffs, point, lie_value, commitment = cheat_case
    tables = fold_tables(coeffs, point)

    def libra_tweak(values: list[int]) -> list[int]:
        out = list(values)
        out[index] = (out[index] + 1) % R
        return out

    proof = forge(toy, tables, point, fresh(), libra_tweak=libra_tweak)
    with pytest.raises(OpeningRejected, match="pairing"):
        verify_toy(toy, commitment, point, (lie_value - 1) % R, proof)
    # With the trapdoor the same lie passes: it is the pairing that stops it.
    proof = forge(toy, tables, point, fresh(), libra_tweak=libra_tweak, trapdoor=TOY_TAU)
    verify_toy(toy, commitment, point, (lie_value - 1) % R, proof)


def test_with_the_trapdoor_the_same_cheat_passes(toy: Setup, cheat_case: tuple) -> None:  # type: ignore[type-arg]
    # Sanity check of the harness: knowing τ, the tweaked-evaluation cheat verifies. So it is the
    # pairing check (τ unknown) that rejects it above, not a bug in the cheating prover.
    coeffs, point, lie_value, commitment = cheat_case
    tables = fold_tables(coeffs, point)

    def tweak(evals: Evals, beta: int) -> Evals:
        return shift_last_fold(evals, beta, point[-1])

    proof = forge(toy, tables, point, fresh(), tweak=tweak, trapdoor=TOY_TAU)
    verify_toy(toy, commitment, point, lie_value, proof)
    honest_proof = forge(toy, tables, point, fresh())
    verify_toy(toy, commitment, point, (lie_value - 1) % R, honest_proof)


def test_cheat_on_the_real_setup(honest: Opening) -> None:
    setup, point = honest.setup, honest.point
    tables = fold_tables(honest.coeffs, point)

    def tweak(evals: Evals, beta: int) -> Evals:
        return shift_last_fold(evals, beta, point[-1])

    proof = forge(setup, tables, point, fresh(), tweak=tweak)
    with pytest.raises(OpeningRejected, match="pairing"):
        honest.verify(
            proof=proof,
            value=(honest.value + 1) % R,
            extra_commitments=[commit(setup, e) for e in TOY_EXTRAS],
        )
