"""Tests for sumkzg.statement: the exact §6 statement bytes and the validation of every field."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from sumkzg.setup import SETUP_ID
from sumkzg.statement import InferenceStatement, RegistrationStatement, StatementError

VERIFIER = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
H_W = bytes(range(32))
MODEL_ID = bytes(range(100, 132))


def inference(**changes: Any) -> InferenceStatement:
    fields: dict[str, Any] = {
        "chain_id": 31337,
        "verifier": VERIFIER,
        "model_id": MODEL_ID,
        "partition_index": 2,
        "h_w": H_W,
        "m": 3,
        "n": 2,
        "multiplier": 0x12345678,
        "shift": 17,
        "activation": 0,
        "x": bytes([0x80, 0x7F]),
        "y": bytes([0xFF, 0x00, 0x01]),
        "job_id": 2**256 - 1,
    }
    fields.update(changes)
    return InferenceStatement(**fields)


def test_registration_bytes_layout() -> None:
    st = RegistrationStatement(chain_id=31337, verifier=VERIFIER.lower(), h_w=H_W, m=5, n=65534)
    data = st.to_bytes()
    assert len(data) == 32 + 20 + 32 + 32 + 4 + 4
    assert data[:32] == (31337).to_bytes(32, "big")
    assert data[32:52] == bytes.fromhex(VERIFIER[2:])
    assert data[52:84] == SETUP_ID
    assert data[84:116] == H_W
    assert data[116:120] == (5).to_bytes(4, "big")
    assert data[120:124] == (65534).to_bytes(4, "big")
    assert st.verifier == VERIFIER  # normalized to EIP-55
    assert st.to_bytes(bytes(32))[52:84] == bytes(32)


def test_inference_bytes_layout() -> None:
    st = inference()
    data = st.to_bytes()
    n, m = 2, 3
    assert len(data) == 32 + 20 + 32 + 32 + 32 + 32 + 4 + 4 + 4 + 1 + 1 + n + m + 32
    expected = (
        (31337).to_bytes(32, "big")
        + bytes.fromhex(VERIFIER[2:])
        + SETUP_ID
        + MODEL_ID
        + (2).to_bytes(32, "big")
        + H_W
        + (3).to_bytes(4, "big")
        + (2).to_bytes(4, "big")
        + bytes.fromhex("12345678")
        + bytes([17, 0])
        + bytes([0x80, 0x7F])
        + bytes([0xFF, 0x00, 0x01])
        + b"\xff" * 32
    )
    assert data == expected
    assert st.x_values == (-128, 127)
    assert st.y_values == (-1, 0, 1)
    assert st.x_array().dtype == np.int8 and list(st.y_array()) == [-1, 0, 1]
    assert st.layout.k == 17 and st.layout.shape.m == 3


def test_from_values_accepts_vectors() -> None:
    st = InferenceStatement.from_values(
        chain_id=1,
        verifier=bytes(20),
        model_id=MODEL_ID,
        partition_index=0,
        h_w=H_W,
        multiplier=1,
        shift=1,
        activation=1,
        x=np.array([-5, 6], dtype=np.int8),
        y=[0, 127, 3],
        job_id=0,
    )
    assert (st.m, st.n) == (3, 2)
    assert st.x == bytes([0xFB, 6]) and st.y == bytes([0, 127, 3])
    with pytest.raises(StatementError):
        InferenceStatement.from_values(
            chain_id=1,
            verifier=bytes(20),
            model_id=MODEL_ID,
            partition_index=0,
            h_w=H_W,
            multiplier=1,
            shift=1,
            activation=1,
            x=[200],
            y=[0],
            job_id=0,
        )


@pytest.mark.parametrize(
    "changes",
    [
        {"chain_id": -1},
        {"chain_id": 2**256},
        {"chain_id": True},
        {"verifier": "0x5fbdb2315678afecb367f032d93f642f64180aA3"},  # bad checksum
        {"verifier": "0x1234"},
        {"verifier": 5},
        {"model_id": bytes(31)},
        {"h_w": bytes(33)},
        {"h_w": "00" * 32},
        {"partition_index": 2**256},
        {"job_id": -1},
        {"m": 0, "y": b""},
        {"m": 65535, "y": bytes(65535)},
        {"n": 0, "x": b""},
        {"multiplier": 2**31},
        {"multiplier": -1},
        {"shift": 0},
        {"shift": 63},
        {"activation": 2},
        {"activation": True},
        {"x": bytes(3)},
        {"y": bytes(2)},
        {"x": [1, 2]},
        {"activation": 1, "y": bytes([0, 0x80, 5])},  # relu output cannot be negative
        {"activation": 1, "y": bytes([0xFF, 0, 5])},
    ],
)
def test_inference_validation(changes: dict[str, Any]) -> None:
    with pytest.raises(StatementError):
        inference(**changes)


def test_relu_accepts_zero_to_127() -> None:
    st = inference(activation=1, y=bytes([0, 127, 64]))
    assert st.y_values == (0, 127, 64)


@pytest.mark.parametrize(
    "changes",
    [
        {"chain_id": -1},
        {"verifier": "nope"},
        {"h_w": bytes(31)},
        {"m": 0},
        {"n": 65535},
        {"m": 8192, "n": 8192},  # ℓ > 24
    ],
)
def test_registration_validation(changes: dict[str, Any]) -> None:
    fields: dict[str, Any] = {"chain_id": 1, "verifier": VERIFIER, "h_w": H_W, "m": 1, "n": 1}
    fields.update(changes)
    with pytest.raises(StatementError):
        RegistrationStatement(**fields)


def test_statements_are_values() -> None:
    a = inference()
    assert a == inference()
    assert replace(a, job_id=5) != a
    assert hash(a) == hash(inference())
