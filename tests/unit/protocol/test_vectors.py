"""
Tests for the shared vector files in tests/vectors/.

The files must be exactly what the generator writes from the reference (so
a hand edit fails here), and their contents are re-checked against
derivations that do not go through the code that produced them.
"""

import json
import math
import subprocess
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from eth_abi.abi import encode

from protocol.disputes import proof_job_id
from protocol.keccak import keccak256
from protocol.merkle import verify_merkle_proof
from protocol.model_id import LayerHeader, PartitionSpec
from protocol.receipts import Receipt
from protocol.types import ModelId, RequestId, hash32
from tests.unit.protocol import reference
from tests.vectors import generate

VECTOR_DIR = Path(generate.__file__).resolve().parent
REPO_ROOT = VECTOR_DIR.parents[1]


@pytest.fixture(scope="module")
def generated() -> dict[str, str]:
    return generate.generate_all()


def load(name: str) -> Any:
    return json.loads((VECTOR_DIR / name).read_text())


def unhex(value: str) -> bytes:
    assert value.startswith("0x")
    return bytes.fromhex(value[2:])


def test_files_are_exactly_what_the_generator_writes(generated: dict[str, str]) -> None:
    assert sorted(generated) == sorted(p.name for p in VECTOR_DIR.glob("*.json"))
    for name, text in generated.items():
        assert (VECTOR_DIR / name).read_text() == text, f"{name} is stale or was edited by hand"


def test_generation_is_deterministic(generated: dict[str, str]) -> None:
    assert generate.generate_all() == generated


def test_total_size_is_reasonable() -> None:
    assert sum(p.stat().st_size for p in VECTOR_DIR.glob("*.json")) < 1_500_000


def test_check_mode_reports_a_stale_file(tmp_path: Path) -> None:
    assert generate.main(["--out", str(tmp_path)]) == 0
    assert generate.main(["--check", "--out", str(tmp_path)]) == 0
    edited = tmp_path / "merkle.json"
    edited.write_text(edited.read_text().replace("0x", "0X", 1))
    assert generate.main(["--check", "--out", str(tmp_path)]) == 1


def test_script_runs_from_a_path() -> None:
    result = subprocess.run(
        [sys.executable, "tests/vectors/generate.py", "--check"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_act_hash_vectors() -> None:
    doc = load("act_hash.json")
    assert len(doc["vectors"]) == len(doc["hashes"]) == len(doc["lengths"])
    lengths = set(doc["lengths"])
    assert {0, 1, 1024} <= lengths
    for vector, length, digest in zip(doc["vectors"], doc["lengths"], doc["hashes"], strict=True):
        raw = unhex(vector)
        assert len(raw) == length
        assert reference.act_hash(raw) == unhex(digest)
    raws = [unhex(v) for v in doc["vectors"]]
    assert any(len(r) > 1 and set(r) == {0x80} for r in raws)  # all -128
    assert any(len(r) > 1 and set(r) == {0x7F} for r in raws)  # all 127


def check_tree(tree: dict[str, Any]) -> None:
    leaves = [unhex(x) for x in tree["leaves"]]
    root = unhex(tree["root"])
    assert reference.merkle_root(leaves) == root
    assert len(tree["proofs"]) == len(leaves)
    for leaf, proof in zip(leaves, tree["proofs"], strict=True):
        assert verify_merkle_proof([unhex(p) for p in proof], root, leaf)


def test_merkle_vectors() -> None:
    doc = load("merkle.json")
    assert {1, 2, 3, 5, 8, 13} <= set(doc["sizes"])
    for size, tree in zip(doc["sizes"], doc["trees"], strict=True):
        assert tree["size"] == size == len(tree["leaves"])
        check_tree(tree)
    assert doc["trees"][0]["proofs"] == [[]]


def test_trace_and_receipt_vectors() -> None:
    doc = load("trace_receipt.json")
    assert any(trace["hidden"] for trace in doc["traces"])
    for trace in doc["traces"]:
        for i, (vector, a) in enumerate(zip(trace["vectors"], trace["act_hashes"], strict=True)):
            raw = unhex(vector)
            expected = bytes(32) if i in trace["hidden"] else reference.act_hash(raw)
            assert unhex(a) == expected
            assert unhex(trace["leaves"][i]) == keccak256(i.to_bytes(4, "big") + expected)
        check_tree(trace)
    assert len(doc["receipts"]) >= 5
    for fields, batch_leaf in zip(doc["receipts"], doc["batch"]["leaves"], strict=True):
        receipt = Receipt(
            request_id=RequestId(int(fields["request_id"])),
            model_id=ModelId(hash32(unhex(fields["model_id"]))),
            input_hash=hash32(unhex(fields["input_hash"])),
            output_hash=hash32(unhex(fields["output_hash"])),
            trace_root=hash32(unhex(fields["trace_root"])),
            node=fields["node"],
            client=fields["client"],
        )
        leaf = keccak256(reference.receipt_preimage(receipt))
        assert unhex(fields["leaf"]) == leaf == unhex(batch_leaf)
        assert unhex(fields["result_hash"]) == keccak256(receipt.output_hash + receipt.trace_root)
    assert doc["batch"]["size"] == len(doc["receipts"])
    check_tree(doc["batch"])


def test_job_id_vectors() -> None:
    cases = load("trace_receipt.json")["job_ids"]
    chain_ids = {int(case["chain_id"]) for case in cases}
    demand_ids = {int(case["demand_id"]) for case in cases}
    assert {1, 31337} <= chain_ids and {0, 1, 2**256 - 1} <= demand_ids
    for case in cases:
        args = [int(case["chain_id"]), case["game"], int(case["demand_id"])]
        expected = keccak256(encode(["uint256", "address", "uint256"], args))
        assert unhex(case["job_id"]) == expected == proof_job_id(*args)


def test_weight_vectors() -> None:
    doc = load("weights.json")
    biases = [b for layer in doc["layers"] for b in layer["biases"]]
    assert min(biases) == -(2**31) and max(biases) == 2**31 - 1
    for layer in doc["layers"]:
        rows = [unhex(r) for r in layer["rows"]]
        assert len(rows) == layer["m"] and all(len(r) == layer["n"] for r in rows)
        for j, (row, bias, leaf) in enumerate(
            zip(rows, layer["biases"], layer["leaves"], strict=True)
        ):
            signed = [b - 256 if b > 127 else b for b in row]
            assert unhex(leaf) == reference.row_leaf(j, bias, signed)
        check_tree(layer)


def test_requant_vectors() -> None:
    doc = load("requant.json")
    columns = [doc[key] for key in ("z", "multiplier", "shift", "activation", "expected")]
    count = doc["count"]
    assert count >= 10_000 and all(len(column) == count for column in columns)
    assert 0.15 <= doc["edge_count"] / count <= 0.35
    seen: set[str] = set()
    for z, m, k, act, expected in zip(*columns, strict=True):
        assert all(type(v) is int for v in (z, m, k, act, expected))
        assert abs(z) < 2**31 and 0 <= m < 2**31 and 1 <= k <= 62 and act in (0, 1)
        assert expected == reference.requant(z, m, k, act)
        q = math.floor(Fraction(z * m, 2**k) + Fraction(1, 2))
        rounded = z * m + (1 << (k - 1))
        seen.update(
            name
            for name, hit in (
                ("negative z", z < 0),
                ("z = 0", z == 0),
                ("z max", z == 2**31 - 1),
                ("z min", z == -(2**31 - 1)),
                ("k = 1", k == 1),
                ("k = 62", k == 62),
                ("M = 0", m == 0),
                ("M max", m == 2**31 - 1),
                ("tie", rounded % (1 << k) == 0),
                ("tie - 1", (rounded + 1) % (1 << k) == 0 and m == 1),
                ("tie + 1", (rounded - 1) % (1 << k) == 0 and m == 1),
                (f"saturate high {act}", q > 127),
                ("saturate low 0", act == 0 and q < -128),
                ("clamp relu", act == 1 and q < 0),
                (f"in range {act}", (0 if act else -128) < q < 127),
            )
            if hit
        )
    assert seen == {
        "negative z", "z = 0", "z max", "z min", "k = 1", "k = 62", "M = 0", "M max", "tie",
        "tie - 1", "tie + 1", "saturate high 0", "saturate high 1", "saturate low 0",
        "clamp relu", "in range 0", "in range 1",
    }  # fmt: skip


def test_model_id_vectors() -> None:
    doc = load("model_id.json")
    assert unhex(doc["domain"]) == keccak256(b"opzk.model.v1")
    assert any(any(m["partitions"]["sensitive"]) for m in doc["models"])
    for model in doc["models"] + doc["invalid_models"]:
        h, p = model["headers"], model["partitions"]
        headers = [
            LayerHeader(*fields)
            for fields in zip(
                h["in_dim"],
                h["out_dim"],
                h["multiplier"],
                h["shift"],
                h["activation"],
                strict=True,
            )
        ]
        partitions = [
            PartitionSpec(first, last, sensitive, hash32(unhex(wc)), hash32(unhex(setup)))
            for first, last, sensitive, wc, setup in zip(
                p["first_layer"], p["last_layer"], p["sensitive"], p["weight_commitment"],
                p["setup_id"], strict=True,
            )
        ]  # fmt: skip
        roots = [unhex(r) for r in model["weight_roots"]]
        assert model["layer_count"] == len(headers)
        if "model_id" in model:
            assert unhex(model["model_id"]) == reference.model_id(headers, roots, partitions)
            hidden = {
                i for s in partitions if s.sensitive for i in range(s.first_layer, s.last_layer)
            }
            assert model["hidden_trace_indices"] == sorted(hidden)
        else:
            assert model["rule"]
