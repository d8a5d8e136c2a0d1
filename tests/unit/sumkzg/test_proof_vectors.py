"""
tests/vectors/sumkzg_proofs.json replayed by the Python verifiers (forge replays the same file):
the two proofs verify with exactly the recorded challenges, their ``sections`` tile the Z9 bytes,
and every rejected variant is rejected.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sumkzg.errors import ProofRejected
from sumkzg.inference import verify_inference
from sumkzg.proof import InferenceProof, RegistrationProof
from sumkzg.registration import verify_registration
from sumkzg.setup import Setup, load_setup
from sumkzg.statement import InferenceStatement, RegistrationStatement
from sumkzg.transcript import DOMAIN_INFERENCE, DOMAIN_REGISTRATION, Transcript
from tests.vectors import generate

VECTOR_FILE = Path(generate.__file__).resolve().parent / "sumkzg_proofs.json"


class Recording(Transcript):
    def __init__(self, domain: bytes) -> None:
        super().__init__(domain)
        self.drawn: list[int] = []

    def challenge(self) -> int:
        value = super().challenge()
        self.drawn.append(value)
        return value


def unhex(value: str) -> bytes:
    assert value.startswith("0x")
    return bytes.fromhex(value[2:])


@pytest.fixture(scope="module")
def vectors() -> Any:
    return json.loads(VECTOR_FILE.read_text())


@pytest.fixture(scope="module")
def setup() -> Setup:
    return load_setup()


def registration_statement(doc: Any) -> RegistrationStatement:
    return RegistrationStatement(
        chain_id=int(doc["chain_id"]),
        verifier=doc["verifier"],
        h_w=unhex(doc["h_w"]),
        m=doc["m"],
        n=doc["n"],
    )


def inference_statement(doc: Any) -> InferenceStatement:
    return InferenceStatement(
        chain_id=int(doc["chain_id"]),
        verifier=doc["verifier"],
        model_id=unhex(doc["model_id"]),
        partition_index=int(doc["partition_index"]),
        h_w=unhex(doc["h_w"]),
        m=doc["m"],
        n=doc["n"],
        multiplier=doc["multiplier"],
        shift=doc["shift"],
        activation=doc["activation"],
        x=unhex(doc["x"]),
        y=unhex(doc["y"]),
        job_id=int(doc["job_id"]),
    )


def check_sections(case: Any) -> None:
    proof = unhex(case["proof"])
    offset = 0
    for section in case["sections"]:
        assert section["offset"] == offset
        offset += section["length"]
    assert offset == len(proof) == case["proof_length"]


def test_registration_vector_replays(setup: Setup, vectors: Any) -> None:
    case = vectors["registration"]
    statement = registration_statement(case["statement"])
    assert statement.to_bytes() == unhex(case["statement_bytes"])
    proof = unhex(case["proof"])
    assert len(proof) == RegistrationProof.byte_len(statement.layout)
    check_sections(case)
    recorder = Recording(DOMAIN_REGISTRATION)
    verify_registration(setup, statement, proof, transcript=recorder)
    assert [f"0x{c:064x}" for c in recorder.drawn] == case["challenges"]
    assert len(case["challenge_names"]) == len(case["challenges"])
    assert "rho_l" in case["challenge_names"] and "kappa" in case["challenge_names"]


def test_inference_vector_replays(setup: Setup, vectors: Any) -> None:
    case = vectors["inference"]
    statement = inference_statement(case["statement"])
    assert statement.to_bytes() == unhex(case["statement_bytes"])
    proof = unhex(case["proof"])
    assert len(proof) == InferenceProof.byte_len(statement.layout)
    check_sections(case)
    recorder = Recording(DOMAIN_INFERENCE)
    verify_inference(setup, statement, proof, transcript=recorder)
    assert [f"0x{c:064x}" for c in recorder.drawn] == case["challenges"]
    names = case["challenge_names"]
    assert names.index("rho_l") == names.index("gamma") + 1
    assert names.index("kappa") == names.index("nu") + 1


def test_rejections_replay(setup: Setup, vectors: Any) -> None:
    assert len(vectors["rejections"]) >= 20
    for case in vectors["rejections"]:
        proof = unhex(case["proof"])
        with pytest.raises(ProofRejected) as info:
            if case["kind"] == "registration":
                verify_registration(setup, registration_statement(case["statement"]), proof)
            else:
                verify_inference(setup, inference_statement(case["statement"]), proof)
        assert type(info.value).__name__ == case["error"], case["what"]


def test_sumcheck_offsets_match_the_sections(vectors: Any) -> None:
    reg = vectors["registration"]
    inf = vectors["inference"]
    reg_at = {s["name"]: s["offset"] for s in reg["sections"]}
    inf_at = {s["name"]: s["offset"] for s in inf["sections"]}
    reg_layout = registration_statement(reg["statement"]).layout
    inf_layout = inference_statement(inf["statement"]).layout
    assert RegistrationProof.sumcheck_offset(reg_layout) == reg_at["sumcheck"]
    assert InferenceProof.sumcheck_offset(inf_layout) == inf_at["sumcheck"]
