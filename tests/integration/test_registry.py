"""Registering models and reading them back."""

from __future__ import annotations

import pytest

from protocol import errors
from protocol.model import QuantizedModel
from tests import factories
from tests.integration.chain_env import ZERO_ADDRESS, ChainEnv

pytestmark = pytest.mark.anvil


def test_register_public_model_and_read_it_back(
    chain: ChainEnv, public_model: QuantizedModel
) -> None:
    receipt = chain.owner.send(
        chain.registry.functions.registerModel(*factories.registration_args(public_model))
    )
    (event,) = chain.events(chain.registry, "ModelRegistered", receipt)
    model_id = public_model.model_id()
    assert bytes(event["modelId"]) == model_id
    assert event["owner"] == chain.owner.address
    assert (event["layers"], event["partitions"]) == (3, 1)

    r = chain.registry.functions
    assert chain.call(r.isRegistered(model_id)) is True
    assert chain.call(r.ownerOf(model_id)) == chain.owner.address
    assert chain.call(r.layerCount(model_id)) == 3
    assert chain.call(r.partitionCount(model_id)) == 1
    headers = [h.as_abi_tuple() for h in public_model.headers()]
    assert [tuple(h) for h in chain.call(r.layerHeaders(model_id))] == headers
    for layer, root in enumerate(public_model.weight_roots(), start=1):
        assert bytes(chain.call(r.weightRoot(model_id, layer))) == root
        assert tuple(chain.call(r.layerHeader(model_id, layer))) == headers[layer - 1]
        header, froot, count = chain.call(r.layerForFraudProof(model_id, layer))
        assert (tuple(header), bytes(froot), count) == (headers[layer - 1], root, 3)
    spec, verifier = chain.call(r.partition(model_id, 0))
    assert tuple(spec) == (1, 3, False, bytes(32), bytes(32))
    assert verifier == ZERO_ADDRESS
    assert [chain.call(r.isPublicTraceIndex(model_id, i)) for i in range(4)] == [True] * 4

    with pytest.raises(errors.UnknownLayer) as info:
        chain.call(r.layerHeader(model_id, 4))
    assert info.value.values == {"modelId": model_id, "layer": 4}
    with pytest.raises(errors.UnknownPartition):
        chain.call(r.partition(model_id, 1))


def test_register_sensitive_model_and_read_it_back(
    chain: ChainEnv, sensitive_model: QuantizedModel
) -> None:
    model_id = chain.register_sensitive(sensitive_model)
    assert model_id == sensitive_model.model_id()
    r = chain.registry.functions
    assert chain.call(r.layerCount(model_id)) == 4
    assert chain.call(r.partitionCount(model_id)) == 3
    roots = sensitive_model.weight_roots()
    assert roots[1] == roots[2] == bytes(32) and roots[0] != bytes(32) != roots[3]
    for layer in range(1, 5):
        assert bytes(chain.call(r.weightRoot(model_id, layer))) == roots[layer - 1]
    specs = [chain.call(r.partition(model_id, i)) for i in range(3)]
    assert [tuple(s) for s, _ in specs] == [p.as_abi_tuple() for p in sensitive_model.partitions]
    assert [v for _, v in specs] == [ZERO_ADDRESS, chain.toggle.address, ZERO_ADDRESS]
    sensitive_spec = specs[factories.SENSITIVE_PARTITION_INDEX][0]
    assert bytes(sensitive_spec[3]) == factories.WEIGHT_COMMITMENT
    assert bytes(sensitive_spec[4]) == factories.SETUP_ID
    # Trace entry 2 (output of layer 2, strictly inside partition 2..3) is hidden; 1 and 3 are its
    # public input and output.
    public = [chain.call(r.isPublicTraceIndex(model_id, i)) for i in range(5)]
    assert public == [True, True, False, True, True]
    assert sorted(sensitive_model.hidden_indices()) == [2]


def test_duplicate_registration_reverts(chain: ChainEnv, public_model: QuantizedModel) -> None:
    model_id = chain.register(public_model)
    args = factories.registration_args(public_model)
    # Any account: the id is the model's content, not its owner.
    for sender in (chain.owner, chain.challenger):
        with pytest.raises(errors.ModelAlreadyRegistered) as info:
            sender.send(chain.registry.functions.registerModel(*args))
        assert info.value.values == {"modelId": model_id}
    assert chain.call(chain.registry.functions.ownerOf(model_id)) == chain.owner.address


def test_sensitive_partition_needs_a_contract_verifier(
    chain: ChainEnv, sensitive_model: QuantizedModel
) -> None:
    eoa = chain.challenger.address
    args = factories.registration_args(sensitive_model, [ZERO_ADDRESS, eoa, ZERO_ADDRESS])
    with pytest.raises(errors.VerifierNotContract) as info:
        chain.owner.send(chain.registry.functions.registerModel(*args))
    assert info.value.values == {"partition": 1, "verifier": eoa}
    assert chain.call(chain.registry.functions.isRegistered(sensitive_model.model_id())) is False
