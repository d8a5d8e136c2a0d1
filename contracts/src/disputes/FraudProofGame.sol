// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {InferenceMarket} from "../InferenceMarket.sol";
import {Commitments} from "../lib/Commitments.sol";
import {QuantMath} from "../lib/QuantMath.sol";
import {Claim, ClaimRef, LayerHeader, MarketParams} from "../lib/Types.sol";
import {DisputeGameBase} from "./DisputeGameBase.sol";

/// @title FraudProofGame
/// @notice Single-transaction fraud proofs against public computation. No bond is needed: a wrong
///         proof reverts and changes nothing; a right one slashes the claim's node at once.
///         - Layer fraud: for a public layer l, the committed h_{l-1} and h_l are revealed (checked
///           against the trace root); if either has the wrong length, or output j differs from
///           requant(W_j · h_{l-1} + b_j) for the registered row j, the claim is fraudulent.
///         - Endpoint fraud: the trace's entry 0 (or L) differs from the receipt's inputHash
///           (or outputHash).
contract FraudProofGame is DisputeGameBase {
    /// @notice Evidence for a wrong public layer.
    /// @param layer The layer l (1..L), which must be public.
    /// @param input The committed h_{l-1}.
    /// @param inputProof Proof of traceLeaf(l-1, actHash(input)) against the claim's trace root.
    /// @param output The committed h_l.
    /// @param outputProof Proof of traceLeaf(l, actHash(output)).
    /// @param row The output index j whose value is wrong.
    /// @param weights Row j of the layer's weights (int8 bytes).
    /// @param bias Bias j.
    /// @param weightProof Proof of weightRowLeaf(j, bias, weights) against the registered weight root.
    struct LayerFraud {
        uint32 layer;
        bytes input;
        bytes32[] inputProof;
        bytes output;
        bytes32[] outputProof;
        uint32 row;
        bytes weights;
        int32 bias;
        bytes32[] weightProof;
    }

    /// @notice A fraud proof succeeded: `node` was slashed `slashed` in favour of `challenger`.
    event FraudProven(
        bytes32 indexed claimKey, address indexed node, address indexed challenger, uint256 layer, uint256 slashed
    );

    /// @notice The layer is not a public layer of the model.
    error NotPublicLayer(uint256 layer);
    /// @notice The row index is not below the layer's output width.
    error RowOutOfRange(uint256 row, uint256 outDim);
    /// @notice The weight row or its proof does not match the registered weight root.
    error InvalidWeightRow(uint256 row);
    /// @notice The trace index is neither 0 nor L.
    error NotAnEndpoint(uint256 index);
    /// @notice The evidence shows the claim is right: nothing to slash.
    error NoFraud();

    constructor(InferenceMarket market_, MarketParams memory params) DisputeGameBase(market_, params) {}

    /// @notice Proves that a claim's public layer `f.layer` was computed wrongly (or that one of its
    ///         committed vectors has the wrong length) and slashes the node.
    function proveLayerFraud(ClaimRef calldata claim, LayerFraud calldata f) external returns (uint256 slashed) {
        // Marking first authenticates the claim once; if the evidence shows no fraud, the revert
        // below undoes the mark.
        Claim memory c = market.recordFraud(claim);
        (LayerHeader memory h, bytes32 root,) = registry.layerForFraudProof(c.modelId, f.layer);
        if (root == bytes32(0)) revert NotPublicLayer(f.layer);
        _checkTraceEntry(c, f.layer - 1, Commitments.actHash(f.input), f.inputProof);
        _checkTraceEntry(c, f.layer, Commitments.actHash(f.output), f.outputProof);

        bool fraud = f.input.length != h.inDim || f.output.length != h.outDim;
        if (!fraud) {
            if (f.row >= h.outDim) revert RowOutOfRange(f.row, h.outDim);
            if (
                f.weights.length != h.inDim
                    || !MerkleProof.verifyCalldata(
                        f.weightProof, root, Commitments.weightRowLeaf(f.row, f.bias, f.weights)
                    )
            ) revert InvalidWeightRow(f.row);
            int256 z = QuantMath.dot(f.weights, f.input, f.bias);
            int8 expected = QuantMath.requant(z, h.multiplier, h.shift, h.activation);
            fraud = int8(uint8(f.output[f.row])) != expected;
        }
        if (!fraud) revert NoFraud();
        slashed = _slashFor(c, f.layer);
    }

    /// @notice Proves that a claim's trace entry 0 (or L) is not the receipt's input (or output) hash.
    function proveEndpointFraud(
        ClaimRef calldata claim,
        uint32 index,
        bytes32 activationHash,
        bytes32[] calldata proof
    ) external returns (uint256 slashed) {
        Claim memory c = market.recordFraud(claim);
        uint256 layers = registry.layerCount(c.modelId);
        bytes32 expected;
        if (index == 0) expected = claim.receipt.inputHash;
        else if (index == layers) expected = claim.receipt.outputHash;
        else revert NotAnEndpoint(index);
        _checkTraceEntry(c, index, activationHash, proof);
        if (activationHash == expected) revert NoFraud();
        slashed = _slashFor(c, index);
    }

    function _slashFor(Claim memory c, uint32 layer) private returns (uint256 slashed) {
        slashed = _slash(c, msg.sender);
        emit FraudProven(c.key, c.node, msg.sender, layer, slashed);
    }
}
