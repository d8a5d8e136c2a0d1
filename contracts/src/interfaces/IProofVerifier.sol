// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @notice What a proof for a sensitive partition proves: the partition committed to by
///         `weightCommitment` maps the public `input` to the public `output`.
/// @param modelId The model the partition belongs to.
/// @param partitionIndex The partition's index in the model.
/// @param weightCommitment The registered commitment to the partition's private weights.
/// @param setupId The proof system's setup the commitment was made under.
/// @param layerHeaders abi.encode(LayerHeader[]) of the partition's layers (shapes, M, k, activation).
/// @param input The partition's input activation vector (int8 bytes).
/// @param output The partition's output activation vector (int8 bytes).
/// @param jobId Binds the proof to one demand: keccak256(abi.encode(chainid, game, disputeId)).
struct PartitionStatement {
    bytes32 modelId;
    uint256 partitionIndex;
    bytes32 weightCommitment;
    bytes32 setupId;
    bytes layerHeaders;
    bytes input;
    bytes output;
    bytes32 jobId;
}

/// @title IProofVerifier
/// @notice The on-chain verifier of proofs for sensitive partitions (the proof system of
///         ../shared/reference/proof-design.md). A verifier also binds `block.chainid` and its own
///         address into its transcript.
interface IProofVerifier {
    /// @notice True iff `proof` is a valid proof of `statement`. Must not revert on a malformed proof
    ///         (return false); ProofDemandGame treats a revert like false all the same.
    function verifyPartitionProof(PartitionStatement calldata statement, bytes calldata proof)
        external
        view
        returns (bool);

    /// @notice True iff `weightCommitment` is proven well-formed under `setupId` for the partition whose
    ///         layers are `layerHeaders`, i.e. the verifier can accept proofs for that partition.
    ///         ModelRegistry refuses a sensitive partition for which this is false.
    /// @param weightCommitment The partition's weight commitment.
    /// @param setupId The proof system's setup the commitment was made under.
    /// @param layerHeaders abi.encode(LayerHeader[]) of the partition's layers.
    function isWellFormed(bytes32 weightCommitment, bytes32 setupId, bytes calldata layerHeaders)
        external
        view
        returns (bool);
}
