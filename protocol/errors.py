# ruff: noqa: N818  (class names mirror the Solidity error names exactly)
"""
Solidity custom errors, mirrored in Python.

Introduction
------------
Every custom error the contracts can revert with has a class here with the same name, the same
signature and the same argument names, so a revert reaches Python code as an exception it can catch
by name (``except errors.ChallengeWindowClosed``) and print with its values. :func:`decode_revert`
turns raw revert data into the matching exception. ``tests/unit/protocol/test_errors.py`` checks
this list against the compiled ABIs in both directions: an error added to a contract without a
class here (or the other way round) fails the tests.

Errors declared under the same signature in several contracts (``LengthMismatch()``,
``WrongBond(uint256,uint256)``, ...) share one selector and so one class.
"""

from typing import ClassVar

from eth_abi.abi import decode
from eth_utils.address import to_checksum_address

from .keccak import keccak256

_ERROR_STRING_SELECTOR = bytes.fromhex("08c379a0")
_PANIC_SELECTOR = bytes.fromhex("4e487b71")


class OpzkError(Exception):
    """Base class of errors expected in normal operation (as opposed to bugs)."""


class ContractError(OpzkError):
    """
    A Solidity custom error. Subclasses set ``signature`` and ``arg_names``; ``values`` maps each
    argument name to its decoded value.
    """

    signature: ClassVar[str] = ""
    arg_names: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *values: object) -> None:
        if len(values) != len(self.arg_names):
            raise TypeError(
                f"{self.signature} takes {len(self.arg_names)} values, got {len(values)}"
            )
        self.values: dict[str, object] = dict(zip(self.arg_names, values, strict=True))
        shown = ", ".join(f"{k}={_show(v)}" for k, v in self.values.items())
        doc = (type(self).__doc__ or "").strip()
        super().__init__(f"{type(self).__name__}({shown}): {doc}")

    @classmethod
    def selector(cls) -> bytes:
        """The 4-byte selector: keccak256(signature)[:4]."""
        return keccak256(cls.signature.encode())[:4]

    @classmethod
    def arg_types(cls) -> list[str]:
        """The ABI types of the arguments, from the signature."""
        inner = cls.signature[cls.signature.index("(") + 1 : -1]
        return [t for t in inner.split(",") if t]


class UnknownContractError(OpzkError):
    """Revert data that matches no known custom error (or a revert without data)."""

    def __init__(self, data: bytes) -> None:
        super().__init__(f"reverted with unrecognised data 0x{data.hex()}" if data else "reverted")
        self.data = data


class RevertWithReason(OpzkError):
    """A ``require(cond, "reason")`` / ``Error(string)`` revert (opzk contracts never use these)."""


class Panic(OpzkError):
    """A Solidity panic (assert, overflow, division by zero...), with its code."""

    def __init__(self, code: int) -> None:
        super().__init__(f"panic 0x{code:02x}")
        self.code = code


def _show(value: object) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


class AlreadyWired(ContractError):
    """The dispute games were already wired."""

    signature = "AlreadyWired()"
    arg_names = ()


class BatchAlreadyFinalized(ContractError):
    """The batch is already finalized."""

    signature = "BatchAlreadyFinalized(uint256)"
    arg_names = ("batchId",)


class BatchLengthMismatch(ContractError):
    """submitProofs got a different number of demands and revealed vectors."""

    signature = "BatchLengthMismatch(uint256,uint256)"
    arg_names = ("demands", "ios")


class BatchProofRejected(ContractError):
    """The batch proof was rejected; nothing changed (each demand may still be answered alone)."""

    signature = "BatchProofRejected()"
    arg_names = ()


class BondTooSmall(ContractError):
    """The challenger has less locked bond than the amount released."""

    signature = "BondTooSmall(uint256,uint256)"
    arg_names = ("requested", "locked")


class ChallengeAlreadyOpen(ContractError):
    """A challenge for this claim and index is already open."""

    signature = "ChallengeAlreadyOpen(uint256)"
    arg_names = ("challengeId",)


class ChallengeNotOpen(ContractError):
    """No open challenge with this id."""

    signature = "ChallengeNotOpen(uint256)"
    arg_names = ("challengeId",)


class ChallengeWindowClosed(ContractError):
    """The challenge window has closed."""

    signature = "ChallengeWindowClosed(uint64)"
    arg_names = ("windowEnd",)


class ChallengeWindowOpen(ContractError):
    """The challenge window is still open."""

    signature = "ChallengeWindowOpen(uint64)"
    arg_names = ("windowEnd",)


class ClaimAlreadySlashed(ContractError):
    """The claim was already proven fraudulent."""

    signature = "ClaimAlreadySlashed(bytes32)"
    arg_names = ("claimKey",)


class CommitmentNotWellFormed(ContractError):
    """A sensitive partition's verifier has not recorded its weight commitment as well-formed."""

    signature = "CommitmentNotWellFormed(uint256)"
    arg_names = ("partition",)


class DeadlineNotPassed(ContractError):
    """The response deadline has not passed yet."""

    signature = "DeadlineNotPassed(uint64)"
    arg_names = ("deadline",)


class DeadlinePassed(ContractError):
    """The response deadline has passed."""

    signature = "DeadlinePassed(uint64)"
    arg_names = ("deadline",)


class DemandAlreadyOpen(ContractError):
    """A demand for this claim and partition is already open."""

    signature = "DemandAlreadyOpen(uint256)"
    arg_names = ("demandId",)


class DemandNotOpen(ContractError):
    """No open demand with this id."""

    signature = "DemandNotOpen(uint256)"
    arg_names = ("demandId",)


class DimensionMismatch(ContractError):
    """Layer `layer`'s input width differs from the previous layer's output width."""

    signature = "DimensionMismatch(uint256,uint32,uint32)"
    arg_names = ("layer", "expected", "actual")


class DisputesOpen(ContractError):
    """Disputes on this container are still open."""

    signature = "DisputesOpen(uint256)"
    arg_names = ("count",)


class DotLengthMismatch(ContractError):
    """The weight row and the input vector have different lengths."""

    signature = "DotLengthMismatch(uint256,uint256)"
    arg_names = ("weights", "inputs")


class DuplicateDemand(ContractError):
    """A demand appears twice in one batch."""

    signature = "DuplicateDemand(uint256)"
    arg_names = ("demandId",)


class EmptyBatch(ContractError):
    """A batch must have a non-zero root and at least one receipt (ProofDemandGame.submitProofs: at
    least one demand)."""

    signature = "EmptyBatch()"
    arg_names = ()


class EmptyModel(ContractError):
    """The model has no layers."""

    signature = "EmptyModel()"
    arg_names = ()


class FeeTooHigh(ContractError):
    """The fee does not fit in 96 bits."""

    signature = "FeeTooHigh(uint256)"
    arg_names = ("fee",)


class FeeTooLow(ContractError):
    """The fee is below the minimum."""

    signature = "FeeTooLow(uint256,uint256)"
    arg_names = ("fee", "minimum")


class InsufficientStake(ContractError):
    """The node has less active stake than asked for."""

    signature = "InsufficientStake(uint256,uint256)"
    arg_names = ("requested", "available")


class InvalidActivation(ContractError):
    """An activation code is neither 0 (none) nor 1 (relu)."""

    signature = "InvalidActivation(uint256,uint8)"
    arg_names = ("layer", "activation")


class InvalidClaim(ContractError):
    """The receipt does not belong to the container (wrong node, fields or proof)."""

    signature = "InvalidClaim()"
    arg_names = ()


class InvalidDimension(ContractError):
    """A layer's width is zero or above MAX_DIM."""

    signature = "InvalidDimension(uint256)"
    arg_names = ("layer",)


class InvalidMultiplier(ContractError):
    """A multiplier is not below 2^31."""

    signature = "InvalidMultiplier(uint256,uint32)"
    arg_names = ("layer", "multiplier")


class InvalidRegistrationProof(ContractError):
    """The well-formedness proof of a weight commitment did not verify."""

    signature = "InvalidRegistrationProof()"
    arg_names = ()


class InvalidShift(ContractError):
    """A shift is outside 1..62."""

    signature = "InvalidShift(uint256,uint8)"
    arg_names = ("layer", "shift")


class InvalidTraceProof(ContractError):
    """The vector's hash is not the committed trace entry at this index."""

    signature = "InvalidTraceProof(uint256)"
    arg_names = ("index",)


class InvalidWeightRow(ContractError):
    """The weight row or its proof does not match the registered weight root."""

    signature = "InvalidWeightRow(uint256)"
    arg_names = ("row",)


class LengthMismatch(ContractError):
    """Array arguments differ in length."""

    signature = "LengthMismatch()"
    arg_names = ()


class MissingCommitment(ContractError):
    """A sensitive partition has no weight commitment."""

    signature = "MissingCommitment(uint256)"
    arg_names = ("partition",)


class MissingWeightRoot(ContractError):
    """A public layer has no weight root."""

    signature = "MissingWeightRoot(uint256)"
    arg_names = ("layer",)


class MixedBatch(ContractError):
    """A demand of the batch is not of the first demand's model and partition."""

    signature = "MixedBatch(uint256)"
    arg_names = ("demandId",)


class ModelAlreadyRegistered(ContractError):
    """A model with this id is already registered."""

    signature = "ModelAlreadyRegistered(bytes32)"
    arg_names = ("modelId",)


class NoFraud(ContractError):
    """The evidence shows the claim is right: nothing to slash."""

    signature = "NoFraud()"
    arg_names = ()


class NoNodeServing(ContractError):
    """No active node serves the model."""

    signature = "NoNodeServing(bytes32)"
    arg_names = ("modelId",)


class NodeNotActive(ContractError):
    """The caller's active stake is below the minimum."""

    signature = "NodeNotActive(address)"
    arg_names = ("node",)


class NotAnEndpoint(ContractError):
    """The trace index is neither 0 nor L."""

    signature = "NotAnEndpoint(uint256)"
    arg_names = ("index",)


class NotAssignedNode(ContractError):
    """The caller is not the node the request is assigned to."""

    signature = "NotAssignedNode(uint256,address)"
    arg_names = ("requestId", "caller")


class NotBatchVerifier(ContractError):
    """The partition's verifier does not implement IBatchProofVerifier."""

    signature = "NotBatchVerifier(address)"
    arg_names = ("verifier",)


class NotClaimNode(ContractError):
    """Only the claim's node may answer."""

    signature = "NotClaimNode(address)"
    arg_names = ("caller",)


class NotDeployer(ContractError):
    """Only the deployer may wire, and only once."""

    signature = "NotDeployer(address)"
    arg_names = ("caller",)


class NotDisputeGame(ContractError):
    """Caller is not a wired dispute game."""

    signature = "NotDisputeGame(address)"
    arg_names = ("caller",)


class NotEnoughGas(ContractError):
    """Less gas is left than a precompile call needs (the call was not attempted)."""

    signature = "NotEnoughGas(uint256,uint256)"
    arg_names = ("needed", "available")


class NotPublicLayer(ContractError):
    """The layer is not a public layer of the model."""

    signature = "NotPublicLayer(uint256)"
    arg_names = ("layer",)


class NotPublicTraceIndex(ContractError):
    """The trace index is hidden inside a sensitive partition."""

    signature = "NotPublicTraceIndex(uint256)"
    arg_names = ("index",)


class NotSensitivePartition(ContractError):
    """The partition is not a sensitive partition of the model."""

    signature = "NotSensitivePartition(uint256)"
    arg_names = ("partitionIndex",)


class NothingToWithdraw(ContractError):
    """Nothing to withdraw."""

    signature = "NothingToWithdraw()"
    arg_names = ()


class PartitionsNotContiguous(ContractError):
    """Partitions do not cover layers 1..L contiguously, in order, without overlap."""

    signature = "PartitionsNotContiguous(uint256)"
    arg_names = ("partition",)


class ReentrancyGuardReentrantCall(ContractError):
    """Unauthorized reentrant call. /."""

    signature = "ReentrancyGuardReentrantCall()"
    arg_names = ()


class RequestExpired(ContractError):
    """The request's fulfilment deadline has passed."""

    signature = "RequestExpired(uint256,uint64)"
    arg_names = ("requestId", "deadline")


class RequestNotExpired(ContractError):
    """The request's fulfilment deadline has not passed yet."""

    signature = "RequestNotExpired(uint256,uint64)"
    arg_names = ("requestId", "deadline")


class RewardShareTooHigh(ContractError):
    """The challenger's share of a slash is above 100%."""

    signature = "RewardShareTooHigh(uint16)"
    arg_names = ("bps",)


class RowOutOfRange(ContractError):
    """The row index is not below the layer's output width."""

    signature = "RowOutOfRange(uint256,uint256)"
    arg_names = ("row", "outDim")


class ServingUnchanged(ContractError):
    """The node already serves (or does not serve) the model."""

    signature = "ServingUnchanged(bytes32,address)"
    arg_names = ("modelId", "node")


class SlashExceedsMinStake(ContractError):
    """A node could stake less than one slash, so a fraud could go unpunished."""

    signature = "SlashExceedsMinStake(uint256,uint256)"
    arg_names = ("slashAmount", "minNodeStake")


class StackNotRegistered(ContractError):
    """P (hP, (m1 + 4) × n1) or V (hV, (m1 + 4) × m2) is not registered in the base verifier."""

    signature = "StackNotRegistered(bytes32,bytes32)"
    arg_names = ("hP", "hV")


class TransferFailed(ContractError):
    """An ETH transfer failed."""

    signature = "TransferFailed(address,uint256)"
    arg_names = ("to", "amount")


class UnexpectedCommitment(ContractError):
    """A public partition carries a weight commitment, setup id or verifier."""

    signature = "UnexpectedCommitment(uint256)"
    arg_names = ("partition",)


class UnexpectedWeightRoot(ContractError):
    """A layer of a sensitive partition has a public weight root."""

    signature = "UnexpectedWeightRoot(uint256)"
    arg_names = ("layer",)


class UnknownBatch(ContractError):
    """No batch with this id."""

    signature = "UnknownBatch(uint256)"
    arg_names = ("batchId",)


class UnknownLayer(ContractError):
    """The layer index is outside 1..L."""

    signature = "UnknownLayer(bytes32,uint256)"
    arg_names = ("modelId", "layer")


class UnknownModel(ContractError):
    """The model is not registered."""

    signature = "UnknownModel(bytes32)"
    arg_names = ("modelId",)


class UnknownPartition(ContractError):
    """The partition index is out of range."""

    signature = "UnknownPartition(bytes32,uint256)"
    arg_names = ("modelId", "partition")


class UnknownRequest(ContractError):
    """No request with this id."""

    signature = "UnknownRequest(uint256)"
    arg_names = ("requestId",)


class UnsupportedShape(ContractError):
    """m or n is outside 1..65534, or the layer needs more than 24 variables."""

    signature = "UnsupportedShape(uint256,uint256)"
    arg_names = ("m", "n")


class UnsupportedStack(ContractError):
    """The layer headers are not two valid QLinear layers of a supported stack."""

    signature = "UnsupportedStack()"
    arg_names = ()


class VerifierNotContract(ContractError):
    """A sensitive partition's verifier is not a contract."""

    signature = "VerifierNotContract(uint256,address)"
    arg_names = ("partition", "verifier")


class WithdrawalDelayTooShort(ContractError):
    """The withdrawal delay does not exceed the challenge window plus the longest dispute."""

    signature = "WithdrawalDelayTooShort(uint64,uint256)"
    arg_names = ("withdrawalDelay", "minimumExclusive")


class WithdrawalLocked(ContractError):
    """Nothing is pending, or the pending withdrawal is still locked."""

    signature = "WithdrawalLocked(uint64)"
    arg_names = ("unlockAt",)


class VerifierOutOfGas(ContractError):
    """The proof verifier ran out of gas; nothing changed (resend with a higher gas limit)."""

    signature = "VerifierOutOfGas()"
    arg_names = ()


class WrongBond(ContractError):
    """msg.value is not the preset bond."""

    signature = "WrongBond(uint256,uint256)"
    arg_names = ("sent", "required")


class WrongInputLength(ContractError):
    """The input's length differs from the model's input width."""

    signature = "WrongInputLength(uint256,uint256)"
    arg_names = ("expected", "actual")


class WrongProofLength(ContractError):
    """The proof does not have the length its shape fixes."""

    signature = "WrongProofLength(uint256,uint256)"
    arg_names = ("expected", "actual")


class WrongRequestStatus(ContractError):
    """The request is not in the status this call needs."""

    signature = "WrongRequestStatus(uint256,uint8)"
    arg_names = ("requestId", "status")


class ZeroAmount(ContractError):
    """The amount is zero."""

    signature = "ZeroAmount()"
    arg_names = ()


class ZeroBond(ContractError):
    """A dispute bond is zero, so bogus challenges would cost nothing."""

    signature = "ZeroBond()"
    arg_names = ()


class ZeroWindow(ContractError):
    """A window or timeout is zero."""

    signature = "ZeroWindow()"
    arg_names = ()


def _all_error_classes() -> dict[bytes, type[ContractError]]:
    table: dict[bytes, type[ContractError]] = {}
    for cls in ContractError.__subclasses__():
        table[cls.selector()] = cls
    return table


ERRORS_BY_SELECTOR: dict[bytes, type[ContractError]] = _all_error_classes()
"""Every mirrored custom error, by selector."""


def decode_revert(data: bytes) -> OpzkError:
    """
    The exception that revert ``data`` stands for: a :class:`ContractError` subclass for a custom
    error, :class:`RevertWithReason` or :class:`Panic` for the built-in ones, else
    :class:`UnknownContractError`.
    """
    selector, payload = data[:4], data[4:]
    if selector in ERRORS_BY_SELECTOR:
        cls = ERRORS_BY_SELECTOR[selector]
        types = cls.arg_types()
        values = decode(types, payload)
        # Addresses as the rest of the code holds them: EIP-55 checksummed (protocol/types.py).
        return cls(
            *(
                to_checksum_address(v) if t == "address" else v
                for t, v in zip(types, values, strict=True)
            )
        )
    if selector == _ERROR_STRING_SELECTOR:
        (reason,) = decode(["string"], payload)
        return RevertWithReason(reason)
    if selector == _PANIC_SELECTOR:
        (code,) = decode(["uint256"], payload)
        return Panic(code)
    return UnknownContractError(data)
