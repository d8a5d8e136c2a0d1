// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {InferenceMarket} from "../InferenceMarket.sol";
import {BatchStatement, IBatchProofVerifier} from "../interfaces/IBatchProofVerifier.sol";
import {IProofVerifier, PartitionStatement} from "../interfaces/IProofVerifier.sol";
import {Commitments} from "../lib/Commitments.sol";
import {Claim, ClaimRef, LayerHeader, MarketParams, PartitionSpec} from "../lib/Types.sol";
import {DisputeGameBase} from "./DisputeGameBase.sol";

/// @title ProofDemandGame
/// @notice A sensitive partition's weights are private, so nobody else can recompute it. A challenger
///         posts a bond demanding a proof; before the deadline the node must reveal the partition's
///         input h_{a-1} and output h_b (checked against its trace root) with a proof, checked by the
///         partition's registered verifier. A valid proof earns the node the bond (compensating the
///         proving cost); an invalid proof, or none by the deadline, slashes the node and returns the
///         bond to the challenger.
contract ProofDemandGame is DisputeGameBase {
    enum Status {
        None,
        Open,
        Proven,
        Rejected,
        TimedOut
    }

    struct ProofDemand {
        Claim claim;
        address challenger;
        uint32 partitionIndex;
        uint64 deadline;
        Status status;
    }

    uint256 public immutable bond;
    uint64 public immutable responseWindow;

    uint256 public demandCount;
    mapping(uint256 demandId => ProofDemand) private _demands;
    /// @notice The open demand, if any, per (claim key, partition).
    mapping(bytes32 claimKey => mapping(uint256 partition => uint256 demandId)) public openDemandOf;

    /// @notice `challenger` demanded a proof of partition `partitionIndex` of a claim by `deadline`.
    event ProofDemanded(
        uint256 indexed demandId,
        bytes32 indexed claimKey,
        address indexed node,
        address challenger,
        uint256 partitionIndex,
        uint64 deadline,
        bytes32 jobId
    );
    /// @notice The node's proof for demand `demandId` verified.
    event ProofAccepted(uint256 indexed demandId, bytes32 indexed claimKey);
    /// @notice The node's proof for demand `demandId` did not verify; the node was slashed.
    event ProofRejected(uint256 indexed demandId, bytes32 indexed claimKey, uint256 slashed);
    /// @notice The node missed the deadline of demand `demandId` and was slashed.
    event ProofDemandTimedOut(uint256 indexed demandId, bytes32 indexed claimKey, uint256 slashed);

    /// @notice msg.value is not the preset bond.
    error WrongBond(uint256 sent, uint256 required);
    /// @notice The partition is not a sensitive partition of the model.
    error NotSensitivePartition(uint256 partitionIndex);
    /// @notice A demand for this claim and partition is already open.
    error DemandAlreadyOpen(uint256 demandId);
    /// @notice No open demand with this id.
    error DemandNotOpen(uint256 demandId);
    /// @notice Only the claim's node may answer.
    error NotClaimNode(address caller);
    /// @notice The response deadline has passed.
    error DeadlinePassed(uint64 deadline);
    /// @notice The response deadline has not passed yet.
    error DeadlineNotPassed(uint64 deadline);
    /// @notice The verifier ran out of gas (or refused to start for lack of it); nothing changed and
    ///         the node may resend with a higher gas limit.
    error VerifierOutOfGas();
    /// @notice The batch proof was rejected (the verifier returned false or reverted with data);
    ///         nothing changed: each demand may still be answered on its own before its deadline.
    error BatchProofRejected();
    /// @notice The partition's verifier does not implement IBatchProofVerifier (no code, no
    ///         well-formed bool answer, or a revert without data that is not out of gas).
    error NotBatchVerifier(address verifier);
    /// @notice submitProofs got no demand.
    error EmptyBatch();
    /// @notice submitProofs got a different number of demands and revealed vectors.
    error BatchLengthMismatch(uint256 demands, uint256 ios);
    /// @notice A demand appears twice in one batch.
    error DuplicateDemand(uint256 demandId);
    /// @notice A demand of the batch is not of the first demand's model and partition.
    error MixedBatch(uint256 demandId);

    /// @dev Selector of `NotEnoughGas(uint256,uint256)`, which a verifier reverts with when too little
    ///      gas is left for a precompile (contracts/src/verifier/Bls12381.sol).
    bytes4 private constant NOT_ENOUGH_GAS = bytes4(keccak256("NotEnoughGas(uint256,uint256)"));

    constructor(InferenceMarket market_, MarketParams memory params) DisputeGameBase(market_, params) {
        bond = params.proofBond;
        responseWindow = params.proofResponseWindow;
    }

    /// @notice Demands a proof for sensitive partition `partitionIndex` of a claim; msg.value is the bond.
    function demandProof(ClaimRef calldata claim, uint32 partitionIndex)
        external
        payable
        returns (uint256 demandId)
    {
        if (msg.value != bond) revert WrongBond(msg.value, bond);
        Claim memory c = market.beginDispute(claim);
        (PartitionSpec memory spec,) = registry.partition(c.modelId, partitionIndex);
        if (!spec.sensitive) revert NotSensitivePartition(partitionIndex);
        uint256 existing = openDemandOf[c.key][partitionIndex];
        if (existing != 0) revert DemandAlreadyOpen(existing);

        demandId = ++demandCount;
        uint64 deadline = uint64(block.timestamp) + responseWindow;
        _demands[demandId] = ProofDemand({
            claim: c,
            challenger: msg.sender,
            partitionIndex: partitionIndex,
            deadline: deadline,
            status: Status.Open
        });
        openDemandOf[c.key][partitionIndex] = demandId;
        stakes.lockBond{value: msg.value}(msg.sender);
        emit ProofDemanded(demandId, c.key, c.node, msg.sender, partitionIndex, deadline, jobId(demandId));
    }

    /// @notice The partition's revealed input h_{a-1} and output h_b with their trace proofs.
    struct PartitionIO {
        bytes input;
        bytes32[] inputProof;
        bytes output;
        bytes32[] outputProof;
    }

    /// @notice The node answers a demand with the partition's input and output and a proof.
    /// @dev Bad evidence for the vectors reverts (nothing changes); a proof the verifier rejects, or
    ///      that makes it revert, slashes the node.
    function submitProof(uint256 demandId, PartitionIO calldata io, bytes calldata proof)
        external
        returns (bool accepted)
    {
        ProofDemand storage d = _open(demandId);
        Claim memory c = d.claim;
        if (msg.sender != c.node) revert NotClaimNode(msg.sender);
        if (block.timestamp > d.deadline) revert DeadlinePassed(d.deadline);
        (PartitionStatement memory statement, address verifier) = _statement(demandId, d, io);
        uint256 gasBefore = gasleft();
        try IProofVerifier(verifier).verifyPartitionProof(statement, proof) returns (bool ok) {
            accepted = ok;
        } catch (bytes memory reason) {
            // A verifier that ran out of gas has judged nothing: revert so the node can resend with
            // more gas, instead of slashing it (and instead of letting eth_estimateGas settle on a
            // gas limit at which the slash path is the one that succeeds). A call that used up its
            // forwarded gas leaves at most 1/64 of what was there before it (EIP-150).
            if (gasleft() <= gasBefore / 64 || _isNotEnoughGas(reason)) revert VerifierOutOfGas();
            accepted = false;
        }

        if (accepted) {
            _accept(demandId, d, c);
        } else {
            delete openDemandOf[c.key][d.partitionIndex];
            d.status = Status.Rejected;
            uint256 slashed;
            if (market.endDispute(c, true)) slashed = _slash(c, d.challenger);
            stakes.releaseBond(d.challenger, bond, d.challenger);
            emit ProofRejected(demandId, c.key, slashed);
        }
    }

    /// @notice The node answers several demands of the same model and partition with one batch proof
    ///         (docs/proof-system-batch.md B6): every demand open, before its deadline and of one of
    ///         the caller's claims; the vectors checked against each claim's trace as in
    ///         `submitProof`; one `verifyBatchProof` by the partition's verifier. Accepted: every
    ///         demand resolves as an accepted `submitProof` (same state changes and events, in
    ///         `demandIds` order). Rejected: reverts `BatchProofRejected` and nothing changes (a
    ///         failed batch slashes nobody: each demand may still be answered alone before its
    ///         deadline, or times out). Out of gas: `VerifierOutOfGas`, as `submitProof`.
    /// @dev The verifier is called with a low-level staticcall. Success with a 32-byte bool: the
    ///      verdict. Success with anything else (no code, no or malformed answer), or a revert
    ///      without data that is not out of gas (what a contract without the function, such as a
    ///      single-proof IProofVerifier, does): `NotBatchVerifier`. A revert leaving at most 1/64 of
    ///      the gas, or `NotEnoughGas`: `VerifierOutOfGas`. Any other revert: `BatchProofRejected`.
    function submitProofs(uint256[] calldata demandIds, PartitionIO[] calldata ios, bytes calldata proof) external {
        (BatchStatement memory statement, address verifier) = _batchStatement(demandIds, ios);
        _verifyBatch(verifier, statement, proof);
        for (uint256 i; i < demandIds.length; ++i) {
            ProofDemand storage d = _demands[demandIds[i]];
            _accept(demandIds[i], d, d.claim);
        }
    }

    /// @notice After a missed deadline: slashes the node (once per claim), returns the bond.
    function resolveTimeout(uint256 demandId) external returns (uint256 slashed) {
        ProofDemand storage d = _open(demandId);
        if (block.timestamp <= d.deadline) revert DeadlineNotPassed(d.deadline);
        Claim memory c = d.claim;
        d.status = Status.TimedOut;
        delete openDemandOf[c.key][d.partitionIndex];
        if (market.endDispute(c, true)) slashed = _slash(c, d.challenger);
        stakes.releaseBond(d.challenger, bond, d.challenger);
        emit ProofDemandTimedOut(demandId, c.key, slashed);
    }

    /// @notice The id a proof for demand `demandId` must bind: keccak256(abi.encode(chainid, this, id)).
    function jobId(uint256 demandId) public view returns (bytes32) {
        return Commitments.jobId(block.chainid, address(this), demandId);
    }

    /// @notice A proof demand.
    function getDemand(uint256 demandId) external view returns (ProofDemand memory) {
        return _demands[demandId];
    }

    /// @dev Checks the revealed vectors against the claim's trace and builds the statement to verify.
    function _statement(uint256 demandId, ProofDemand storage d, PartitionIO calldata io)
        private
        view
        returns (PartitionStatement memory statement, address verifier)
    {
        Claim memory c = d.claim;
        PartitionSpec memory spec;
        (spec, verifier) = registry.partition(c.modelId, d.partitionIndex);
        _checkTraceEntry(c, spec.firstLayer - 1, Commitments.actHash(io.input), io.inputProof);
        _checkTraceEntry(c, spec.lastLayer, Commitments.actHash(io.output), io.outputProof);
        statement = PartitionStatement({
            modelId: c.modelId,
            partitionIndex: d.partitionIndex,
            weightCommitment: spec.weightCommitment,
            setupId: spec.setupId,
            layerHeaders: abi.encode(_headers(c.modelId, spec)),
            input: io.input,
            output: io.output,
            jobId: jobId(demandId)
        });
    }

    /// @dev The accepted path of a demand (submitProof and submitProofs alike).
    function _accept(uint256 demandId, ProofDemand storage d, Claim memory c) private {
        delete openDemandOf[c.key][d.partitionIndex];
        d.status = Status.Proven;
        market.endDispute(c, false);
        stakes.releaseBond(d.challenger, bond, c.node);
        emit ProofAccepted(demandId, c.key);
    }

    /// @dev Checks every demand of a batch (open, the caller's, before its deadline, same model and
    ///      partition as the first, no repeat) and its vectors, and builds the batch statement.
    function _batchStatement(uint256[] calldata demandIds, PartitionIO[] calldata ios)
        private
        view
        returns (BatchStatement memory statement, address verifier)
    {
        uint256 count = demandIds.length;
        if (count == 0) revert EmptyBatch();
        if (ios.length != count) revert BatchLengthMismatch(count, ios.length);
        ProofDemand storage first = _open(demandIds[0]);
        statement.modelId = first.claim.modelId;
        statement.partitionIndex = first.partitionIndex;
        PartitionSpec memory spec;
        (spec, verifier) = registry.partition(statement.modelId, statement.partitionIndex);
        statement.weightCommitment = spec.weightCommitment;
        statement.setupId = spec.setupId;
        statement.layerHeaders = abi.encode(_headers(statement.modelId, spec));
        statement.inputs = new bytes[](count);
        statement.outputs = new bytes[](count);
        statement.jobIds = new bytes32[](count);
        for (uint256 i; i < count; ++i) {
            uint256 id = demandIds[i];
            for (uint256 j; j < i; ++j) {
                if (demandIds[j] == id) revert DuplicateDemand(id);
            }
            ProofDemand storage d = _open(id);
            Claim memory c = d.claim;
            if (msg.sender != c.node) revert NotClaimNode(msg.sender);
            if (block.timestamp > d.deadline) revert DeadlinePassed(d.deadline);
            if (c.modelId != statement.modelId || d.partitionIndex != statement.partitionIndex) {
                revert MixedBatch(id);
            }
            _checkTraceEntry(c, spec.firstLayer - 1, Commitments.actHash(ios[i].input), ios[i].inputProof);
            _checkTraceEntry(c, spec.lastLayer, Commitments.actHash(ios[i].output), ios[i].outputProof);
            statement.inputs[i] = ios[i].input;
            statement.outputs[i] = ios[i].output;
            statement.jobIds[i] = jobId(id);
        }
    }

    /// @dev Reverts unless `verifier` accepts the batch proof (see submitProofs).
    function _verifyBatch(address verifier, BatchStatement memory statement, bytes calldata proof) private view {
        bytes memory data = abi.encodeCall(IBatchProofVerifier.verifyBatchProof, (statement, proof));
        uint256 gasBefore = gasleft();
        (bool ok, bytes memory ret) = verifier.staticcall(data);
        if (!ok) {
            if (gasleft() <= gasBefore / 64 || _isNotEnoughGas(ret)) revert VerifierOutOfGas();
            if (ret.length == 0) revert NotBatchVerifier(verifier);
            revert BatchProofRejected();
        }
        if (ret.length != 32) revert NotBatchVerifier(verifier);
        uint256 verdict = abi.decode(ret, (uint256));
        if (verdict > 1) revert NotBatchVerifier(verifier);
        if (verdict == 0) revert BatchProofRejected();
    }

    function _open(uint256 demandId) private view returns (ProofDemand storage d) {
        d = _demands[demandId];
        if (d.status != Status.Open) revert DemandNotOpen(demandId);
    }

    function _headers(bytes32 modelId, PartitionSpec memory spec)
        private
        view
        returns (LayerHeader[] memory hs)
    {
        hs = new LayerHeader[](spec.lastLayer - spec.firstLayer + 1);
        for (uint256 i; i < hs.length; ++i) {
            hs[i] = registry.layerHeader(modelId, spec.firstLayer + i);
        }
    }

    /// @dev Whether revert data is the verifier's `NotEnoughGas(uint256,uint256)`.
    function _isNotEnoughGas(bytes memory reason) private pure returns (bool) {
        return reason.length >= 4 && bytes4(reason) == NOT_ENOUGH_GAS;
    }
}
