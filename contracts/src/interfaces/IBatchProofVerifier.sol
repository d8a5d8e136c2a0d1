// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @notice What a batch proof proves (docs/proof-system-batch.md B1, B6): the partition committed to by
///         `weightCommitment` maps `inputs[b]` to `outputs[b]` for every instance b, each instance bound
///         to its own `jobIds[b]` (pairwise distinct).
/// @param modelId The model the partition belongs to.
/// @param partitionIndex The partition's index in the model.
/// @param weightCommitment The registered commitment to the partition's private weights.
/// @param setupId The proof system's setup the commitment was made under.
/// @param layerHeaders abi.encode(LayerHeader[]) of the partition's layers.
/// @param inputs The partition's input activation vectors (int8 bytes), one per instance.
/// @param outputs The partition's output activation vectors (int8 bytes), one per instance.
/// @param jobIds One job id per instance: keccak256(abi.encode(chainid, game, demandId)).
struct BatchStatement {
    bytes32 modelId;
    uint256 partitionIndex;
    bytes32 weightCommitment;
    bytes32 setupId;
    bytes layerHeaders;
    bytes[] inputs;
    bytes[] outputs;
    bytes32[] jobIds;
}

/// @title IBatchProofVerifier
/// @notice A verifier of one proof for several inferences of the same sensitive partition.
interface IBatchProofVerifier {
    /// @notice True iff `proof` is a valid batch proof of `statement`. Must not revert on a malformed
    ///         proof or statement (return false), except for lack of gas (`NotEnoughGas`).
    function verifyBatchProof(BatchStatement calldata statement, bytes calldata proof) external view returns (bool);
}
