"""protocol.errors mirrors every Solidity custom error, and decode_revert reads revert data."""

from __future__ import annotations

from collections import defaultdict

import pytest
from eth_abi.abi import encode

from deploy.compiler import CompiledContract
from protocol import errors
from protocol.keccak import keccak256

SOURCE_PREFIX = "contracts/src/"


def error_classes() -> dict[str, type[errors.ContractError]]:
    classes = errors.ContractError.__subclasses__()
    return {cls.signature: cls for cls in classes}


@pytest.fixture(scope="module")
def abi_errors(compiled: dict[str, CompiledContract]) -> dict[str, set[tuple[str, ...]]]:
    """Signature → the argument-name tuples it is declared with, over every product contract's
    ABI (test doubles excluded: their errors are not the product's)."""
    found: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    product = [c for c in compiled.values() if c.source_path.startswith(SOURCE_PREFIX)]
    assert {c.name for c in product} >= {
        "StakeManager",
        "ModelRegistry",
        "InferenceMarket",
        "FraudProofGame",
        "DataAvailabilityGame",
        "ProofDemandGame",
    }
    for contract in product:
        for entry in contract.abi:
            if entry["type"] != "error":
                continue
            types = ",".join(i["type"] for i in entry["inputs"])
            found[f"{entry['name']}({types})"].add(tuple(i["name"] for i in entry["inputs"]))
    return dict(found)


def test_every_abi_error_has_a_python_class(abi_errors: dict[str, set[tuple[str, ...]]]) -> None:
    missing = sorted(set(abi_errors) - set(error_classes()))
    assert missing == [], f"Solidity errors without a protocol.errors class: {missing}"


def test_every_python_class_is_a_solidity_error(
    abi_errors: dict[str, set[tuple[str, ...]]],
) -> None:
    extra = sorted(set(error_classes()) - set(abi_errors))
    assert extra == [], f"protocol.errors classes that no contract can revert with: {extra}"


def test_names_and_argument_names_match(abi_errors: dict[str, set[tuple[str, ...]]]) -> None:
    assert len(abi_errors) > 50
    for signature, arg_name_sets in abi_errors.items():
        cls = error_classes()[signature]
        assert cls.__name__ == signature.split("(")[0]
        assert arg_name_sets == {cls.arg_names}, signature
        assert len(cls.arg_types()) == len(cls.arg_names)


def test_selectors_are_unique_and_indexed() -> None:
    classes = error_classes()
    assert len(errors.ERRORS_BY_SELECTOR) == len(classes)
    for signature, cls in classes.items():
        assert cls.selector() == keccak256(signature.encode())[:4]
        assert errors.ERRORS_BY_SELECTOR[cls.selector()] is cls
        assert getattr(errors, cls.__name__) is cls
        assert (cls.__doc__ or "").strip(), f"{cls.__name__} has no docstring"


def _revert(signature: str, types: list[str], values: list[object]) -> bytes:
    return keccak256(signature.encode())[:4] + encode(types, values)


@pytest.mark.parametrize(
    ("signature", "types", "values", "expected"),
    [
        ("ZeroBond()", [], [], {}),
        (
            "WithdrawalDelayTooShort(uint64,uint256)",
            ["uint64", "uint256"],
            [100, 240],
            {"withdrawalDelay": 100, "minimumExclusive": 240},
        ),
        (
            "NotDeployer(address)",
            ["address"],
            ["0x70997970c51812dc3a010c7d01b50e0d17dc79c8"],
            {"caller": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"},  # checksummed on decode
        ),
        (
            "ClaimAlreadySlashed(bytes32)",
            ["bytes32"],
            [b"\xab" * 32],
            {"claimKey": b"\xab" * 32},
        ),
        (
            "WrongRequestStatus(uint256,uint8)",
            ["uint256", "uint8"],
            [7, 5],
            {"requestId": 7, "status": 5},
        ),
        (
            "InvalidShift(uint256,uint8)",
            ["uint256", "uint8"],
            [3, 63],
            {"layer": 3, "shift": 63},
        ),
    ],
)
def test_decode_revert_round_trips(
    signature: str, types: list[str], values: list[object], expected: dict[str, object]
) -> None:
    exc = errors.decode_revert(_revert(signature, types, values))
    assert type(exc).__name__ == signature.split("(")[0]
    assert isinstance(exc, errors.ContractError)
    assert exc.values == expected
    assert type(exc).__name__ in str(exc)
    # The same values build the same exception directly.
    assert type(exc)(*expected.values()).values == expected


def test_decode_panic_and_error_string() -> None:
    panic = errors.decode_revert(bytes.fromhex("4e487b71") + encode(["uint256"], [0x11]))
    assert isinstance(panic, errors.Panic)
    assert panic.code == 0x11
    assert str(panic) == "panic 0x11"
    reason = errors.decode_revert(bytes.fromhex("08c379a0") + encode(["string"], ["boom"]))
    assert isinstance(reason, errors.RevertWithReason)
    assert str(reason) == "boom"


def test_decode_unknown_data() -> None:
    unknown = errors.decode_revert(b"\xde\xad\xbe\xef" + bytes(32))
    assert isinstance(unknown, errors.UnknownContractError)
    assert unknown.data == b"\xde\xad\xbe\xef" + bytes(32)
    empty = errors.decode_revert(b"")
    assert isinstance(empty, errors.UnknownContractError)
    assert str(empty) == "reverted"


def test_wrong_number_of_values_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="takes 2 values"):
        errors.WithdrawalDelayTooShort(1)
