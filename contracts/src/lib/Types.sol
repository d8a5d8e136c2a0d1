// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title Types shared by the opzk contracts
/// @notice Plain data: layer headers, partitions, receipts and the claim reference every dispute takes.
///         The byte-level rules over these types are in docs/protocol.md and lib/Commitments.sol.

/// @notice Header of one `QLinear(inDim -> outDim)` layer (DESIGN.md §3).
/// @dev `activation` is 0 for none (clamp to [-128,127]) and 1 for relu (clamp to [0,127]).
struct LayerHeader {
    uint32 inDim;
    uint32 outDim;
    uint32 multiplier;
    uint8 shift;
    uint8 activation;
}

/// @notice A contiguous, inclusive range of layers (numbered from 1), public or sensitive.
/// @dev A public partition has zero `weightCommitment` and `setupId`; a sensitive one commits to its
///      private weights with `weightCommitment` under the proof system's setup `setupId`.
struct PartitionSpec {
    uint32 firstLayer;
    uint32 lastLayer;
    bool sensitive;
    bytes32 weightCommitment;
    bytes32 setupId;
}

/// @notice The fields of a result claim: one inference, by one node, for one client.
/// @dev Its leaf is `Commitments.receiptLeaf`. For an on-chain request, `requestId` is the request's
///      id in `InferenceMarket`; for a batched off-chain receipt it is the node's own request id.
struct Receipt {
    uint256 requestId;
    bytes32 modelId;
    bytes32 inputHash;
    bytes32 outputHash;
    bytes32 traceRoot;
    address node;
    address client;
}

/// @notice Where a claim was committed: in a batch root, or as the fulfilment of an on-chain request.
enum ClaimSource {
    Batch,
    Request
}

/// @notice What a disputer passes to point at one claim.
/// @param source Batch or on-chain request.
/// @param containerId The batch id, or the on-chain request id.
/// @param inclusionProof Merkle proof of the receipt leaf in the batch (empty for a request).
/// @param receipt The claim's fields.
struct ClaimRef {
    ClaimSource source;
    uint256 containerId;
    bytes32[] inclusionProof;
    Receipt receipt;
}

/// @notice A claim after `InferenceMarket` authenticated it.
/// @param key Unique key of the claim: keccak256(abi.encode(source, containerId, receiptLeaf)).
/// @param windowEnd Timestamp at which the claim's challenge window closes.
struct Claim {
    bytes32 key;
    ClaimSource source;
    uint256 containerId;
    address node;
    bytes32 modelId;
    bytes32 traceRoot;
    uint64 windowEnd;
}

/// @notice Every economic and timing parameter of a deployment (a "preset", see deploy/presets/).
/// @dev Validated by `MarketParamsLib.validate`: the withdrawal delay must exceed the challenge window
///      plus the longest dispute, or a node could withdraw before it can be slashed.
struct MarketParams {
    uint64 challengeWindow;
    uint64 dataResponseWindow;
    uint64 proofResponseWindow;
    uint64 requestTimeout;
    uint64 withdrawalDelay;
    uint256 minNodeStake;
    uint256 slashAmount;
    uint16 challengerRewardBps;
    uint256 dataBond;
    uint256 proofBond;
    uint256 minRequestFee;
}
