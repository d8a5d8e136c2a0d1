"""
Cheat modes: the per-request draw, each lie as a challenger sees it through the node's API, the
record, and the refusal off Anvil.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from challenger.service import check_trace
from challenger.source import receipt_from_api, trace_from_api
from deploy.anvil import ANVIL_CHAIN_ID
from node.cheats import (
    PROOF_MODES,
    RECORD_FILE,
    TRACE_MODES,
    CheatMode,
    CheatPlan,
    cheat_row,
    check_cheats_allowed,
    draw,
)
from node.claims import build_receipts
from node.records import ChallengeStatus, DataChallengeRecord
from node.responder import answer_challenges
from node.settings import NodeConfigError, load_settings
from protocol.activations import act_hash
from protocol.model import forward_trace
from protocol.receipts import receipt_leaf
from prover.fraud import first_wrong_element
from tests.unit.node.helpers import CLIENT, NODE, Node, running

IDS = range(1, 10_001)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("OPZK_NODE_"):
            monkeypatch.delenv(name)


# ---- the draw ------------------------------------------------------------------------------------


def test_rate_zero_never_cheats() -> None:
    assert all(draw(3, i, 0.0, TRACE_MODES) is None for i in IDS)
    assert all(draw(3, i, 1.0, ()) is None for i in IDS)


@pytest.mark.parametrize("rate", [0.01, 0.05, 0.3])
def test_share_of_cheats_is_the_rate_and_modes_are_even(rate: float) -> None:
    drawn = [d for i in IDS if (d := draw(11, i, rate, TRACE_MODES)) is not None]
    expected = rate * len(IDS)
    sigma = (len(IDS) * rate * (1 - rate)) ** 0.5
    assert abs(len(drawn) - expected) < 4 * sigma
    per_mode = Counter(d.mode for d in drawn)
    assert set(per_mode) == set(TRACE_MODES)
    assert max(per_mode.values()) - min(per_mode.values()) < 0.5 * len(drawn) / len(TRACE_MODES)


def test_rate_one_always_cheats() -> None:
    assert all(draw(0, i, 1.0, [CheatMode.WRONG_OUTPUT]) is not None for i in range(1, 1000))


def test_draw_is_deterministic_per_seed() -> None:
    def cheated(seed: int) -> list[tuple[int, CheatMode]]:
        return [(i, d.mode) for i in IDS if (d := draw(seed, i, 0.05, TRACE_MODES)) is not None]

    assert cheated(5) == cheated(5)
    assert {i for i, _ in cheated(5)} != {i for i, _ in cheated(6)}


# ---- each lie, seen through the API as a challenger sees it --------------------------------------


def _plan(mode: CheatMode, rate: float = 1.0, **kwargs: Any) -> CheatPlan:
    return CheatPlan(rate, [mode], seed=1, **kwargs)


def _infer(api: TestClient, node: Node, name: str, x: list[int]) -> dict[str, Any]:
    mid = "0x" + node.models[name].model_id.hex()
    answer = api.post("/v1/inferences", json={"model_id": mid, "input": x, "client": CLIENT})
    assert answer.status_code == 201
    body: dict[str, Any] = answer.json()
    return body


def _inputs(node: Node, name: str, count: int) -> list[list[int]]:
    rng = np.random.default_rng(4)
    width = node.models[name].in_dim
    return [rng.integers(-128, 128, width).tolist() for _ in range(count)]


@pytest.mark.parametrize("name", ["digits", "public", "sensitive"])
@pytest.mark.parametrize(
    "mode", [CheatMode.WRONG_OUTPUT, CheatMode.WRONG_LAYER, CheatMode.BAD_ENDPOINT]
)
def test_each_lie_is_flagged_and_looks_normal_to_the_client(
    node: Node, name: str, mode: CheatMode
) -> None:
    node.runtime.cheats = _plan(mode)
    served = node.models[name]
    model = served.model
    with running(node) as api:
        for x in _inputs(node, name, 6):
            answer = _infer(api, node, name, x)
            assert set(answer) == {"request_id", "model_id", "output", "receipt_leaf", "status"}
            request_id = answer["request_id"]
            body = api.get(f"/v1/receipts/{request_id}").json()
            receipt = receipt_from_api(body)
            assert "0x" + bytes(receipt_leaf(receipt)).hex() == answer["receipt_leaf"]
            assert body["input"] == x and body["output"] == answer["output"]
            assert bytes(receipt.input_hash) == bytes(act_hash(np.array(x, np.int8)))
            assert bytes(receipt.output_hash) == bytes(
                act_hash(np.array(answer["output"], np.int8))
            )
            trace = api.get(f"/v1/traces/{request_id}")
            assert trace.status_code == 200
            checked = check_trace(model, receipt, trace_from_api(trace.json()), {})
            assert checked.hashes is not None and checked.missing == ()  # the trace is committed
            wrong = first_wrong_element(model, checked.vectors)
            honest_output = forward_trace(model, np.array(x, np.int8))[-1]
            if mode is CheatMode.BAD_ENDPOINT:
                assert wrong is None  # the trace itself is consistent...
                assert checked.endpoint_fraud in (0, len(model.layers))  # ...its endpoints not
            else:
                assert checked.endpoint_fraud is None
                assert wrong is not None
                if mode is CheatMode.WRONG_OUTPUT or name == "sensitive":
                    # the sensitive model's only intermediate public layer is 1, else the output
                    expected = {len(model.layers)} if mode is CheatMode.WRONG_OUTPUT else {1}
                    assert wrong.layer in expected
                else:
                    assert 0 < wrong.layer < len(model.layers)
            if mode is CheatMode.WRONG_OUTPUT:
                assert answer["output"] != honest_output.tolist()
    records = node.runtime.cheats.records()
    assert len(records) == 6 and {r.mode for r in records} == {mode}
    assert all(r.effective for r in records)


def test_bad_endpoint_uses_both_endpoints(node: Node) -> None:
    served = node.models["digits"]
    honest = forward_trace(served.model, np.arange(64, dtype=np.int8))
    details = {
        cheat_row(served, honest, CheatMode.BAD_ENDPOINT, pick).detail  # type: ignore[union-attr]
        for pick in range(4)
    }
    assert details == {"endpoint 0 (input)", "endpoint 3 (output)"}


def test_withheld_trace_is_refused_and_never_published(node: Node) -> None:
    node.runtime.cheats = _plan(CheatMode.WITHHELD_TRACE)
    with running(node) as api:
        x = _inputs(node, "digits", 1)[0]
        answer = _infer(api, node, "digits", x)
        request_id = answer["request_id"]
        receipt = api.get(f"/v1/receipts/{request_id}")
        assert receipt.status_code == 200  # the receipt is served and committed honestly
        honest = forward_trace(node.models["digits"].model, np.array(x, np.int8))
        assert answer["output"] == honest[-1].tolist()
        trace = api.get(f"/v1/traces/{request_id}")
        assert trace.status_code == 410  # challenger.source reads 404/410 as withheld
    with node.store.writing() as w:
        w.add_data_challenge(
            DataChallengeRecord(
                challenge_id=1, claim_key=b"\x01" * 32, request_id=request_id, trace_index=1,
                deadline=10**12, challenger=CLIENT, status=ChallengeStatus.OPEN,
                response_tx=None, detail="",
            )
        )  # fmt: skip

    class NoChain:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"the responder touched the chain ({name})")

    assert answer_challenges(node.store, NoChain(), node.runtime) == []  # type: ignore[arg-type]
    (challenge,) = node.store.data_challenges()
    assert challenge.status is ChallengeStatus.UNANSWERABLE


def test_honest_requests_are_untouched(node: Node) -> None:
    served = node.models["digits"]
    rng = np.random.default_rng(2)
    x = rng.integers(-128, 128, (200, 64)).astype(np.int8)
    trace = node.runtime.run(served.model_id, x)
    ids = range(1, 201)
    clients = [CLIENT] * 200
    honest = build_receipts(served, trace, ids, node=NODE, clients=clients, created_at=1.0)
    plan = CheatPlan(0.3, TRACE_MODES, seed=9)
    rows = plan.build_receipts(served, trace, ids, node=NODE, clients=clients, created_at=1.0)
    cheated = {r.request_id: r.mode for r in plan.records()}
    assert 30 < len(cheated) < 90
    for h, r in zip(honest, rows, strict=True):
        mode = cheated.get(r.request_id)
        if mode is None or mode is CheatMode.WITHHELD_TRACE:
            assert r == h
        else:
            assert r.receipt_leaf != h.receipt_leaf  # (a bad output endpoint keeps the trace)


def test_proof_modes_are_drawn_but_answered_honestly(node: Node) -> None:
    served = node.models["sensitive"]
    x = np.zeros((3, served.in_dim), dtype=np.int8)
    trace = node.runtime.run(served.model_id, x)
    plan = CheatPlan(1.0, PROOF_MODES, seed=3)
    args: dict[str, Any] = {"node": NODE, "clients": [CLIENT] * 3, "created_at": 1.0}
    rows = plan.build_receipts(served, trace, [1, 2, 3], **args)
    assert rows == build_receipts(served, trace, [1, 2, 3], **args)
    assert {plan.proof_action(i) for i in (1, 2, 3)} <= set(PROOF_MODES)
    assert all(not r.effective for r in plan.records())
    assert plan.proof_action(4) is None and not plan.withholds(1)


# ---- settings, refusal off Anvil, the record ----------------------------------------------------


def test_cheat_settings_are_checked() -> None:
    s = load_settings(None, cheat_rate=0.05, cheat_modes=["wrong_output"], cheat_seed=7)
    assert s.cheat_rate == 0.05 and s.cheat_modes == ["wrong_output"] and s.cheat_seed == 7
    assert load_settings().cheat_rate == 0.0
    assert load_settings().cheat_modes == [m.value for m in TRACE_MODES]
    assert load_settings(None, cheat_modes=["refused_proof", "invalid_proof"]).cheat_modes
    with pytest.raises(NodeConfigError, match="cheat_rate"):
        load_settings(None, cheat_rate=1.5)
    with pytest.raises(NodeConfigError, match="cheat_modes"):
        load_settings(None, cheat_modes=["lie_a_lot"])
    with pytest.raises(NodeConfigError, match=r"cheat_modes.*listed twice"):
        load_settings(None, cheat_modes=["wrong_output", "wrong_output"])
    with pytest.raises(NodeConfigError, match="cheat_modes"):
        load_settings(None, cheat_modes=[])


def test_cheats_are_refused_off_anvil(tmp_path: Path) -> None:
    s = load_settings(None, cheat_rate=0.05, data_dir=tmp_path)
    with pytest.raises(NodeConfigError, match=r"^cheat_rate: .* refused on chain id 1 \(only"):
        check_cheats_allowed(s, 1)
    with pytest.raises(NodeConfigError, match="cheat_rate"):
        CheatPlan.from_settings(s, 11155111, last_request_id=0)
    check_cheats_allowed(s, ANVIL_CHAIN_ID)
    check_cheats_allowed(load_settings(None, data_dir=tmp_path), 1)  # rate 0: any chain
    assert (
        CheatPlan.from_settings(load_settings(None, data_dir=tmp_path), 1, last_request_id=0)
        is None
    )


def test_record_file_is_written_and_read_back(node: Node, tmp_path: Path) -> None:
    s = load_settings(None, cheat_rate=0.5, cheat_seed=4, data_dir=tmp_path / "data")
    plan = CheatPlan.from_settings(s, ANVIL_CHAIN_ID, last_request_id=0, metrics=node.metrics)
    assert plan is not None and plan.enabled
    served = node.models["digits"]
    x = np.random.default_rng(1).integers(-128, 128, (40, 64)).astype(np.int8)
    trace = node.runtime.run(served.model_id, x)
    plan.build_receipts(
        served, trace, range(1, 41), node=NODE, clients=[CLIENT] * 40, created_at=2.0
    )
    path = tmp_path / "data" / RECORD_FILE
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [d["request_id"] for d in lines] == [r.request_id for r in plan.records()]
    assert {d["mode"] for d in lines} <= {m.value for m in TRACE_MODES}
    assert set(lines[0]) == {"request_id", "mode", "detail", "effective", "model_id", "created_at"}
    metric = node.metrics.render().decode()
    assert f'opzk_node_cheats_injected_total{{mode="{lines[0]["mode"]}"}}' in metric

    # a restart with fewer stored receipts drops the records of ids that will be handed out again
    again = CheatPlan.from_settings(s, ANVIL_CHAIN_ID, last_request_id=20)
    assert again is not None
    kept = [d["request_id"] for d in lines if d["request_id"] <= 20]
    assert [r.request_id for r in again.records()] == kept
    assert [json.loads(x)["request_id"] for x in path.read_text().splitlines()] == kept
    # a node that stopped cheating still withholds what it withheld
    honest_now = load_settings(None, data_dir=tmp_path / "data")
    later = CheatPlan.from_settings(honest_now, ANVIL_CHAIN_ID, last_request_id=40)
    assert later is not None and not later.enabled
    assert [r.request_id for r in later.records()] == kept
