// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IProofVerifier} from "./interfaces/IProofVerifier.sol";
import {Commitments} from "./lib/Commitments.sol";
import {LayerHeader, PartitionSpec} from "./lib/Types.sol";

/// @title ModelRegistry
/// @notice Registers integer-quantized models: their layer headers, the weight root of every public
///         layer, and their partitions (public, or sensitive with a weight commitment, a setup id and
///         the verifier of its proofs). A model's id is the hash of what defines it
///         (`Commitments.modelId`), and a registered model never changes.
contract ModelRegistry {
    /// @notice Largest layer width accepted (keeps fraud proofs within a block's gas).
    uint32 public constant MAX_DIM = 1 << 16;
    /// @notice Largest requantization shift (DESIGN.md §3).
    uint8 public constant MAX_SHIFT = 62;
    /// @notice Multipliers are below 2^31 (DESIGN.md §3).
    uint32 public constant MULTIPLIER_LIMIT = uint32(1) << 31;

    struct Model {
        address owner;
        LayerHeader[] headers;
        bytes32[] weightRoots;
        PartitionSpec[] partitions;
        address[] verifiers;
        /// @dev partitionOfLayer[l - 1] = index of the partition holding layer l.
        uint32[] partitionOfLayer;
    }

    mapping(bytes32 modelId => Model) private _models;

    /// @notice A model was registered.
    event ModelRegistered(
        bytes32 indexed modelId, address indexed owner, uint256 layers, uint256 partitions
    );

    /// @notice The model has no layers.
    error EmptyModel();
    /// @notice Arrays that must have one entry per layer (or per partition) do not.
    error LengthMismatch();
    /// @notice A layer's width is zero or above MAX_DIM.
    error InvalidDimension(uint256 layer);
    /// @notice Layer `layer`'s input width differs from the previous layer's output width.
    error DimensionMismatch(uint256 layer, uint32 expected, uint32 actual);
    /// @notice A multiplier is not below 2^31.
    error InvalidMultiplier(uint256 layer, uint32 multiplier);
    /// @notice A shift is outside 1..62.
    error InvalidShift(uint256 layer, uint8 shift);
    /// @notice An activation code is neither 0 (none) nor 1 (relu).
    error InvalidActivation(uint256 layer, uint8 activation);
    /// @notice Partitions do not cover layers 1..L contiguously, in order, without overlap.
    error PartitionsNotContiguous(uint256 partition);
    /// @notice A public layer has no weight root.
    error MissingWeightRoot(uint256 layer);
    /// @notice A layer of a sensitive partition has a public weight root.
    error UnexpectedWeightRoot(uint256 layer);
    /// @notice A public partition carries a weight commitment, setup id or verifier.
    error UnexpectedCommitment(uint256 partition);
    /// @notice A sensitive partition has no weight commitment.
    error MissingCommitment(uint256 partition);
    /// @notice A sensitive partition's verifier is not a contract.
    error VerifierNotContract(uint256 partition, address verifier);
    /// @notice A sensitive partition's verifier has not recorded its weight commitment as
    ///         well-formed for the partition's layers (IProofVerifier.isWellFormed is false or reverts).
    error CommitmentNotWellFormed(uint256 partition);
    /// @notice A model with this id is already registered.
    error ModelAlreadyRegistered(bytes32 modelId);
    /// @notice No model with this id is registered.
    error UnknownModel(bytes32 modelId);
    /// @notice The layer index is outside 1..L.
    error UnknownLayer(bytes32 modelId, uint256 layer);
    /// @notice The partition index is out of range.
    error UnknownPartition(bytes32 modelId, uint256 partition);

    /// @notice Registers a model; the caller becomes its owner.
    /// @param headers One header per layer, in order.
    /// @param weightRoots Per layer: the weight root for a public layer, zero for a sensitive one.
    /// @param partitions Contiguous partitions covering layers 1..L.
    /// @param verifiers Per partition: the IProofVerifier of a sensitive partition, zero for a public one.
    ///        It must report the partition's commitment well-formed (`isWellFormed` over exactly the
    ///        partition's headers), else CommitmentNotWellFormed.
    /// @return modelId The model's id, `Commitments.modelId(headers, weightRoots, partitions)`.
    function registerModel(
        LayerHeader[] calldata headers,
        bytes32[] calldata weightRoots,
        PartitionSpec[] calldata partitions,
        address[] calldata verifiers
    ) external returns (bytes32 modelId) {
        uint256 layers = headers.length;
        if (layers == 0) revert EmptyModel();
        if (weightRoots.length != layers || verifiers.length != partitions.length) {
            revert LengthMismatch();
        }
        _checkHeaders(headers);
        uint32[] memory partitionOfLayer = _checkPartitions(headers.length, weightRoots, partitions, verifiers);

        modelId = Commitments.modelId(headers, weightRoots, partitions);
        Model storage model = _models[modelId];
        if (model.owner != address(0)) revert ModelAlreadyRegistered(modelId);
        _checkCommitments(headers, partitions, verifiers);
        model.owner = msg.sender;
        for (uint256 i; i < layers; ++i) {
            model.headers.push(headers[i]);
            model.weightRoots.push(weightRoots[i]);
            model.partitionOfLayer.push(partitionOfLayer[i]);
        }
        for (uint256 p; p < partitions.length; ++p) {
            model.partitions.push(partitions[p]);
            model.verifiers.push(verifiers[p]);
        }
        emit ModelRegistered(modelId, msg.sender, layers, partitions.length);
    }

    // ----------------------------------------------------------------------------------------------
    // Views
    // ----------------------------------------------------------------------------------------------

    /// @notice Whether `modelId` is registered.
    function isRegistered(bytes32 modelId) external view returns (bool) {
        return _models[modelId].owner != address(0);
    }

    /// @notice The account that registered `modelId`.
    function ownerOf(bytes32 modelId) external view returns (address) {
        return _model(modelId).owner;
    }

    /// @notice Number of layers L of `modelId`.
    function layerCount(bytes32 modelId) external view returns (uint256) {
        return _model(modelId).headers.length;
    }

    /// @notice Header of layer `layer` (1..L).
    function layerHeader(bytes32 modelId, uint256 layer) external view returns (LayerHeader memory) {
        Model storage model = _model(modelId);
        _checkLayer(model, modelId, layer);
        return model.headers[layer - 1];
    }

    /// @notice Everything a public-layer fraud proof needs about layer `layer` (1..L).
    /// @return header The layer's header.
    /// @return root The layer's weight root (zero for a sensitive layer).
    /// @return layers The model's layer count L.
    function layerForFraudProof(bytes32 modelId, uint256 layer)
        external
        view
        returns (LayerHeader memory header, bytes32 root, uint256 layers)
    {
        Model storage model = _model(modelId);
        _checkLayer(model, modelId, layer);
        return (model.headers[layer - 1], model.weightRoots[layer - 1], model.headers.length);
    }

    /// @notice Weight root of layer `layer` (zero for a layer of a sensitive partition).
    function weightRoot(bytes32 modelId, uint256 layer) external view returns (bytes32) {
        Model storage model = _model(modelId);
        _checkLayer(model, modelId, layer);
        return model.weightRoots[layer - 1];
    }

    /// @notice Number of partitions of `modelId`.
    function partitionCount(bytes32 modelId) external view returns (uint256) {
        return _model(modelId).partitions.length;
    }

    /// @notice Partition `index` of `modelId` and its verifier.
    function partition(bytes32 modelId, uint256 index)
        external
        view
        returns (PartitionSpec memory spec, address verifier)
    {
        Model storage model = _model(modelId);
        if (index >= model.partitions.length) revert UnknownPartition(modelId, index);
        return (model.partitions[index], model.verifiers[index]);
    }

    /// @notice Whether trace entry `index` (0..L) is committed: false exactly for the activations
    ///         strictly inside a sensitive partition, which traces replace by a zero leaf.
    function isPublicTraceIndex(bytes32 modelId, uint256 index) external view returns (bool) {
        Model storage model = _model(modelId);
        uint256 layers = model.headers.length;
        if (index > layers) revert UnknownLayer(modelId, index);
        if (index == 0 || index == layers) return true;
        PartitionSpec storage p = model.partitions[model.partitionOfLayer[index - 1]];
        return !(p.sensitive && index < p.lastLayer);
    }

    /// @notice Headers of all layers of `modelId`.
    function layerHeaders(bytes32 modelId) external view returns (LayerHeader[] memory) {
        return _model(modelId).headers;
    }

    // ----------------------------------------------------------------------------------------------
    // Internals
    // ----------------------------------------------------------------------------------------------

    function _model(bytes32 modelId) private view returns (Model storage model) {
        model = _models[modelId];
        if (model.owner == address(0)) revert UnknownModel(modelId);
    }

    function _checkLayer(Model storage model, bytes32 modelId, uint256 layer) private view {
        if (layer == 0 || layer > model.headers.length) revert UnknownLayer(modelId, layer);
    }

    function _checkHeaders(LayerHeader[] calldata headers_) private pure {
        for (uint256 i; i < headers_.length; ++i) {
            LayerHeader calldata h = headers_[i];
            uint256 layer = i + 1;
            if (h.inDim == 0 || h.outDim == 0 || h.inDim > MAX_DIM || h.outDim > MAX_DIM) {
                revert InvalidDimension(layer);
            }
            if (i > 0 && h.inDim != headers_[i - 1].outDim) {
                revert DimensionMismatch(layer, headers_[i - 1].outDim, h.inDim);
            }
            if (h.multiplier >= MULTIPLIER_LIMIT) revert InvalidMultiplier(layer, h.multiplier);
            if (h.shift == 0 || h.shift > MAX_SHIFT) revert InvalidShift(layer, h.shift);
            if (h.activation > 1) revert InvalidActivation(layer, h.activation);
        }
    }

    /// @dev Every sensitive partition's verifier must have recorded the partition's weight commitment as
    ///      well-formed for exactly its layers (abi.encode(LayerHeader[]) of them, as ProofDemandGame
    ///      passes them to the verifier).
    function _checkCommitments(
        LayerHeader[] calldata headers,
        PartitionSpec[] calldata partitions,
        address[] calldata verifiers
    ) private view {
        for (uint256 p; p < partitions.length; ++p) {
            PartitionSpec calldata spec = partitions[p];
            if (!spec.sensitive) continue;
            bytes memory encoded = abi.encode(headers[spec.firstLayer - 1:spec.lastLayer]);
            bool wellFormed;
            try IProofVerifier(verifiers[p]).isWellFormed(spec.weightCommitment, spec.setupId, encoded) returns (
                bool answer
            ) {
                wellFormed = answer;
            } catch {}
            if (!wellFormed) revert CommitmentNotWellFormed(p);
        }
    }

    function _checkPartitions(
        uint256 layers,
        bytes32[] calldata weightRoots,
        PartitionSpec[] calldata partitions,
        address[] calldata verifiers
    ) private view returns (uint32[] memory partitionOfLayer) {
        partitionOfLayer = new uint32[](layers);
        uint256 next = 1;
        for (uint256 p; p < partitions.length; ++p) {
            PartitionSpec calldata spec = partitions[p];
            if (spec.firstLayer != next || spec.lastLayer < spec.firstLayer || spec.lastLayer > layers) {
                revert PartitionsNotContiguous(p);
            }
            if (spec.sensitive) {
                if (spec.weightCommitment == bytes32(0)) revert MissingCommitment(p);
                if (verifiers[p].code.length == 0) revert VerifierNotContract(p, verifiers[p]);
            } else if (
                spec.weightCommitment != bytes32(0) || spec.setupId != bytes32(0)
                    || verifiers[p] != address(0)
            ) {
                revert UnexpectedCommitment(p);
            }
            for (uint256 layer = spec.firstLayer; layer <= spec.lastLayer; ++layer) {
                bool hasRoot = weightRoots[layer - 1] != bytes32(0);
                if (spec.sensitive && hasRoot) revert UnexpectedWeightRoot(layer);
                if (!spec.sensitive && !hasRoot) revert MissingWeightRoot(layer);
                // forge-lint: disable-next-line(unsafe-typecast)
                partitionOfLayer[layer - 1] = uint32(p); // safe: p < partitions <= layers <= calldata size
            }
            next = spec.lastLayer + 1;
        }
        if (next != layers + 1) revert PartitionsNotContiguous(partitions.length);
    }
}
