// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {InferenceMarket} from "../../src/InferenceMarket.sol";
import {ModelRegistry} from "../../src/ModelRegistry.sol";
import {StakeManager} from "../../src/StakeManager.sol";
import {DataAvailabilityGame} from "../../src/disputes/DataAvailabilityGame.sol";
import {FraudProofGame} from "../../src/disputes/FraudProofGame.sol";
import {ProofDemandGame} from "../../src/disputes/ProofDemandGame.sol";
import {ClaimRef, ClaimSource, LayerHeader, MarketParams, PartitionSpec, Receipt} from "../../src/lib/Types.sol";
import {ToggleVerifier} from "../doubles/ToggleVerifier.sol";
import {Test} from "./Test.sol";
import {MerkleBuilder, RefMath} from "./TestLib.sol";

/// @title Fixture
/// @notice Deploys the whole opzk system with a test preset and wires its roles, and builds what tests
///         need: models (weights, weight roots and row proofs computed here in Solidity), correct or
///         tampered traces (an independent integer forward pass), receipts, batches and proofs.
abstract contract Fixture is Test {
    /// @notice A model as the tests know it: its public definition plus a seed for all its weights
    ///         (the weights of sensitive layers too, which only the "node" is supposed to know).
    struct ModelSpec {
        LayerHeader[] headers;
        PartitionSpec[] partitions;
        address[] verifiers;
        uint256 seed;
    }

    /// @notice A committed claim and everything needed to dispute it.
    struct Made {
        ClaimRef ref;
        bytes[] h; // the vectors h_0..h_L as the node committed them
        bytes32[] traceLeaves; // the node's trace tree leaves
    }

    uint256 internal constant FEE = 0.01 ether;
    uint256 internal constant NODE_STAKE = 20 ether;
    address internal constant BURN = 0x000000000000000000000000000000000000dEaD;
    uint256 internal constant PUBLIC_SEED = 1;
    uint256 internal constant SENSITIVE_SEED = 2;

    ModelRegistry internal registry;
    StakeManager internal stakes;
    InferenceMarket internal market;
    FraudProofGame internal fraud;
    DataAvailabilityGame internal da;
    ProofDemandGame internal proofs;
    ToggleVerifier internal verifier;
    MarketParams internal params;

    address internal owner;
    address internal node;
    address internal node2;
    address internal client;
    address internal challenger;

    bytes32 internal publicModel;
    bytes32 internal sensitiveModel;

    uint256 private _nonce;

    function setUp() public virtual {
        owner = makeAddr("owner");
        node = makeAddr("node");
        node2 = makeAddr("node2");
        client = makeAddr("client");
        challenger = makeAddr("challenger");
        vm.deal(client, 100 ether);
        vm.deal(challenger, 100 ether);
        vm.warp(1_700_000_000);

        params = _preset();
        _deploy(params);
        verifier = new ToggleVerifier();
        publicModel = _register(_publicSpec(), owner);
        sensitiveModel = _register(_sensitiveSpec(), owner);
    }

    // ---------------------------------------------------------------------------------------------
    // Deployment
    // ---------------------------------------------------------------------------------------------

    function _preset() internal pure returns (MarketParams memory p) {
        p = MarketParams({
            challengeWindow: 1 hours,
            dataResponseWindow: 30 minutes,
            proofResponseWindow: 1 hours,
            requestTimeout: 10 minutes,
            withdrawalDelay: 3 hours,
            minNodeStake: 10 ether,
            slashAmount: 5 ether,
            challengerRewardBps: 5000,
            dataBond: 0.1 ether,
            proofBond: 0.2 ether,
            minRequestFee: 0.001 ether
        });
    }

    function _deploy(MarketParams memory p) internal {
        registry = new ModelRegistry();
        stakes = new StakeManager(p);
        market = new InferenceMarket(registry, stakes, p);
        fraud = new FraudProofGame(market, p);
        da = new DataAvailabilityGame(market, p);
        proofs = new ProofDemandGame(market, p);
        address[] memory games = new address[](3);
        games[0] = address(fraud);
        games[1] = address(da);
        games[2] = address(proofs);
        stakes.wireDisputeGames(games);
        market.wireDisputeGames(games);
        vm.label(address(registry), "registry");
        vm.label(address(stakes), "stakes");
        vm.label(address(market), "market");
        vm.label(address(fraud), "fraud");
        vm.label(address(da), "da");
        vm.label(address(proofs), "proofs");
    }

    // ---------------------------------------------------------------------------------------------
    // Models
    // ---------------------------------------------------------------------------------------------

    /// @notice Two public layers 4 -> 3 (relu) -> 2 (none), one public partition.
    function _publicSpec() internal pure returns (ModelSpec memory s) {
        s.headers = new LayerHeader[](2);
        s.headers[0] = LayerHeader({inDim: 4, outDim: 3, multiplier: 3 << 20, shift: 30, activation: 1});
        s.headers[1] = LayerHeader({inDim: 3, outDim: 2, multiplier: 3 << 20, shift: 29, activation: 0});
        s.partitions = new PartitionSpec[](1);
        s.partitions[0] = PartitionSpec(1, 2, false, bytes32(0), bytes32(0));
        s.verifiers = new address[](1);
        s.seed = PUBLIC_SEED;
    }

    /// @notice Four layers 4 -> 3 -> 3 -> 3 -> 2: layer 1 public, layers 2..3 a sensitive partition
    ///         (so trace entry 2 is hidden), layer 4 public.
    function _sensitiveSpec() internal view returns (ModelSpec memory s) {
        s.headers = new LayerHeader[](4);
        s.headers[0] = LayerHeader({inDim: 4, outDim: 3, multiplier: 3 << 20, shift: 30, activation: 1});
        s.headers[1] = LayerHeader({inDim: 3, outDim: 3, multiplier: 3 << 20, shift: 29, activation: 1});
        s.headers[2] = LayerHeader({inDim: 3, outDim: 3, multiplier: 3 << 20, shift: 29, activation: 1});
        s.headers[3] = LayerHeader({inDim: 3, outDim: 2, multiplier: 3 << 20, shift: 29, activation: 0});
        s.partitions = new PartitionSpec[](3);
        s.partitions[0] = PartitionSpec(1, 1, false, bytes32(0), bytes32(0));
        s.partitions[1] = PartitionSpec(2, 3, true, keccak256("opzk.test.commitment"), keccak256("opzk.test.setup"));
        s.partitions[2] = PartitionSpec(4, 4, false, bytes32(0), bytes32(0));
        s.verifiers = new address[](3);
        s.verifiers[1] = address(verifier);
        s.seed = SENSITIVE_SEED;
    }

    function _isSensitiveLayer(ModelSpec memory s, uint256 layer) internal pure returns (bool) {
        for (uint256 p; p < s.partitions.length; ++p) {
            if (layer >= s.partitions[p].firstLayer && layer <= s.partitions[p].lastLayer) {
                return s.partitions[p].sensitive;
            }
        }
        return false;
    }

    /// @notice Whether trace entry `i` is hidden (strictly inside a sensitive partition: a <= i < b).
    function _isHiddenIndex(ModelSpec memory s, uint256 i) internal pure returns (bool) {
        for (uint256 p; p < s.partitions.length; ++p) {
            PartitionSpec memory ps = s.partitions[p];
            if (ps.sensitive && i >= ps.firstLayer && i < ps.lastLayer) return true;
        }
        return false;
    }

    /// @notice Row `row` of a layer with `n` inputs: int8 weights in [-64, 63] from `seed`.
    function _row(uint256 seed, uint256 layer, uint256 row, uint256 n) internal pure returns (bytes memory w) {
        w = new bytes(n);
        uint256 full = n & ~uint256(31);
        bytes32 m7f = 0x7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f;
        bytes32 m40 = 0x4040404040404040404040404040404040404040404040404040404040404040;
        for (uint256 i; i < n; i += 32) {
            bytes32 word = keccak256(abi.encode(seed, layer, row, i / 32));
            // Sign-extend 7 bits to 8 in every byte: values in [-64, 63].
            bytes32 chunk = (word & m7f) | ((word & m40) << 1);
            if (i < full) {
                assembly ("memory-safe") {
                    mstore(add(add(w, 32), i), chunk)
                }
            } else {
                for (uint256 b; i + b < n; ++b) {
                    w[i + b] = chunk[b];
                }
            }
        }
    }

    function _bias(uint256 seed, uint256 layer, uint256 row) internal pure returns (int32) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return int32(int256(uint256(keccak256(abi.encode(seed, layer, row, "bias"))) % 1024) - 512);
    }

    function _weightLeaves(uint256 seed, uint256 layer, uint256 m, uint256 n)
        internal
        pure
        returns (bytes32[] memory leaves)
    {
        leaves = new bytes32[](m);
        for (uint256 j; j < m; ++j) {
            leaves[j] = RefMath.weightRowLeaf(j, _bias(seed, layer, j), _row(seed, layer, j, n));
        }
    }

    function _specWeightLeaves(ModelSpec memory s, uint256 layer) internal pure returns (bytes32[] memory) {
        LayerHeader memory h = s.headers[layer - 1];
        return _weightLeaves(s.seed, layer, h.outDim, h.inDim);
    }

    function _weightRoot(ModelSpec memory s, uint256 layer) internal pure returns (bytes32) {
        return MerkleBuilder.root(_specWeightLeaves(s, layer));
    }

    function _weightProof(ModelSpec memory s, uint256 layer, uint256 row) internal pure returns (bytes32[] memory) {
        return MerkleBuilder.proof(_specWeightLeaves(s, layer), row);
    }

    function _weightRoots(ModelSpec memory s) internal pure returns (bytes32[] memory roots) {
        roots = new bytes32[](s.headers.length);
        for (uint256 l = 1; l <= s.headers.length; ++l) {
            if (!_isSensitiveLayer(s, l)) roots[l - 1] = _weightRoot(s, l);
        }
    }

    function _register(ModelSpec memory s, address owner_) internal returns (bytes32 id) {
        bytes32[] memory roots = _weightRoots(s);
        vm.prank(owner_);
        id = registry.registerModel(s.headers, roots, s.partitions, s.verifiers);
    }

    // ---------------------------------------------------------------------------------------------
    // Inference and traces
    // ---------------------------------------------------------------------------------------------

    function _input(uint256 seed, uint256 n) internal pure returns (bytes memory x) {
        x = new bytes(n);
        for (uint256 i; i < n; ++i) {
            x[i] = bytes1(uint8(uint256(keccak256(abi.encode("input", seed, i)))));
        }
    }

    function _layerForward(ModelSpec memory s, uint256 layer, bytes memory x) internal pure returns (bytes memory y) {
        LayerHeader memory h = s.headers[layer - 1];
        y = new bytes(h.outDim);
        for (uint256 j; j < h.outDim; ++j) {
            int256 z = RefMath.dot(_row(s.seed, layer, j, h.inDim), x, _bias(s.seed, layer, j));
            int256 q = RefMath.requant(z, h.multiplier, h.shift, h.activation);
            // forge-lint: disable-next-line(unsafe-typecast)
            y[j] = bytes1(uint8(int8(q)));
        }
    }

    /// @notice The correct h_0..h_L for `input`.
    function _forward(ModelSpec memory s, bytes memory input) internal pure returns (bytes[] memory h) {
        return _forwardTampered(s, input, 0, 0);
    }

    /// @notice h_0..h_L where element `row` of layer `badLayer`'s output is off by one and later
    ///         layers are computed from the tampered vector (so only layer `badLayer` is wrong).
    ///         badLayer 0 means no tampering.
    function _forwardTampered(ModelSpec memory s, bytes memory input, uint256 badLayer, uint256 row)
        internal
        pure
        returns (bytes[] memory h)
    {
        uint256 layers = s.headers.length;
        h = new bytes[](layers + 1);
        h[0] = input;
        for (uint256 l = 1; l <= layers; ++l) {
            h[l] = _layerForward(s, l, h[l - 1]);
            if (l == badLayer) h[l][row] = _offByOne(h[l][row]);
        }
    }

    function _offByOne(bytes1 b) internal pure returns (bytes1) {
        if (b == 0x7f) return 0x7e;
        unchecked {
            return bytes1(uint8(b) + 1); // 0xff (-1) wraps to 0x00 (0)
        }
    }

    /// @notice The committed activation hashes of a trace (zero where hidden).
    function _actHashes(ModelSpec memory s, bytes[] memory h) internal pure returns (bytes32[] memory a) {
        a = new bytes32[](h.length);
        for (uint256 i; i < h.length; ++i) {
            a[i] = _isHiddenIndex(s, i) ? bytes32(0) : RefMath.actHash(h[i]);
        }
    }

    function _traceLeaves(bytes32[] memory a) internal pure returns (bytes32[] memory leaves) {
        leaves = new bytes32[](a.length);
        for (uint256 i; i < a.length; ++i) {
            leaves[i] = RefMath.traceLeaf(i, a[i]);
        }
    }

    function _traceProof(Made memory m, uint256 index) internal pure returns (bytes32[] memory) {
        return MerkleBuilder.proof(m.traceLeaves, index);
    }

    // ---------------------------------------------------------------------------------------------
    // Nodes, batches, requests
    // ---------------------------------------------------------------------------------------------

    function _stake(address who, uint256 amount) internal {
        vm.deal(who, who.balance + amount);
        vm.prank(who);
        stakes.stake{value: amount}();
    }

    function _commit(address node_, bytes32 root, uint32 count) internal returns (uint256 batchId) {
        vm.prank(node_);
        batchId = market.commitBatch(root, count);
    }

    /// @notice Commits a batch of three receipts by `node_` whose middle one carries the given trace.
    function _commitClaim(
        bytes32 modelId,
        address node_,
        bytes[] memory h,
        bytes32[] memory a,
        bytes32 inputHash,
        bytes32 outputHash
    ) internal returns (Made memory m) {
        m.h = h;
        m.traceLeaves = _traceLeaves(a);
        uint256 n = ++_nonce;
        Receipt memory r = Receipt({
            requestId: 1_000_000 + n,
            modelId: modelId,
            inputHash: inputHash,
            outputHash: outputHash,
            traceRoot: MerkleBuilder.root(m.traceLeaves),
            node: node_,
            client: client
        });
        bytes32[] memory leaves = new bytes32[](3);
        leaves[0] = keccak256(abi.encode("filler", n, 0));
        leaves[1] = RefMath.receiptLeaf(r);
        leaves[2] = keccak256(abi.encode("filler", n, 2));
        uint256 batchId = _commit(node_, MerkleBuilder.root(leaves), 3);
        m.ref = ClaimRef({
            source: ClaimSource.Batch, containerId: batchId, inclusionProof: MerkleBuilder.proof(leaves, 1), receipt: r
        });
    }

    function _commitTrace(ModelSpec memory s, bytes32 modelId, address node_, bytes[] memory h)
        internal
        returns (Made memory)
    {
        bytes32[] memory a = _actHashes(s, h);
        return _commitClaim(modelId, node_, h, a, RefMath.actHash(h[0]), RefMath.actHash(h[h.length - 1]));
    }

    function _honestBatchClaim(ModelSpec memory s, bytes32 modelId, address node_, uint256 inputSeed)
        internal
        returns (Made memory)
    {
        return _commitTrace(s, modelId, node_, _forward(s, _input(inputSeed, s.headers[0].inDim)));
    }

    function _serve(address node_, bytes32 modelId) internal {
        vm.prank(node_);
        market.serveModel(modelId);
    }

    function _requestInference(address client_, bytes32 modelId, bytes memory input) internal returns (uint256 id) {
        vm.prank(client_);
        id = market.requestInference{value: FEE}(modelId, input);
    }

    /// @notice Fulfils request `id` as `node_` with `output` and the trace of `h`/`a`.
    function _fulfilClaim(uint256 id, address node_, bytes memory output, bytes[] memory h, bytes32[] memory a)
        internal
        returns (Made memory m)
    {
        m.h = h;
        m.traceLeaves = _traceLeaves(a);
        bytes32 root = MerkleBuilder.root(m.traceLeaves);
        uint256[] memory ids = new uint256[](1);
        bytes[] memory outs = new bytes[](1);
        bytes32[] memory roots = new bytes32[](1);
        ids[0] = id;
        outs[0] = output;
        roots[0] = root;
        vm.prank(node_);
        market.fulfil(ids, outs, roots);
        InferenceMarket.Request memory rq = market.request(id);
        m.ref = ClaimRef({
            source: ClaimSource.Request,
            containerId: id,
            inclusionProof: new bytes32[](0),
            receipt: Receipt({
                requestId: id,
                modelId: rq.modelId,
                inputHash: rq.inputHash,
                outputHash: RefMath.actHash(output),
                traceRoot: root,
                node: node_,
                client: rq.client
            })
        });
    }

    /// @notice Requests an inference as `client` and fulfils it with trace `h` as `node_`.
    function _requestAndFulfil(ModelSpec memory s, bytes32 modelId, address node_, bytes[] memory h)
        internal
        returns (Made memory m, uint256 id)
    {
        id = _requestInference(client, modelId, h[0]);
        m = _fulfilClaim(id, node_, h[h.length - 1], h, _actHashes(s, h));
    }

    // ---------------------------------------------------------------------------------------------
    // Dispute evidence
    // ---------------------------------------------------------------------------------------------

    function _layerFraud(ModelSpec memory s, Made memory m, uint32 layer, uint32 row)
        internal
        pure
        returns (FraudProofGame.LayerFraud memory f)
    {
        LayerHeader memory h = s.headers[layer - 1];
        f.layer = layer;
        f.input = m.h[layer - 1];
        f.inputProof = _traceProof(m, layer - 1);
        f.output = m.h[layer];
        f.outputProof = _traceProof(m, layer);
        f.row = row;
        uint256 r = row < h.outDim ? row : 0;
        f.weights = _row(s.seed, layer, r, h.inDim);
        f.bias = _bias(s.seed, layer, r);
        f.weightProof = _weightProof(s, layer, r);
    }

    function _partitionIO(Made memory m, uint256 first, uint256 last)
        internal
        pure
        returns (ProofDemandGame.PartitionIO memory io)
    {
        io.input = m.h[first - 1];
        io.inputProof = _traceProof(m, first - 1);
        io.output = m.h[last];
        io.outputProof = _traceProof(m, last);
    }
}
