// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ModelRegistry} from "../src/ModelRegistry.sol";
import {ClaimSource, LayerHeader, PartitionSpec, Receipt} from "../src/lib/Types.sol";
import {ToggleVerifier} from "./doubles/ToggleVerifier.sol";
import {LibHarness} from "./utils/Harness.sol";
import {MerkleBuilder} from "./utils/TestLib.sol";
import {Test} from "./utils/Test.sol";

/// @title Shared-vector tests
/// @notice Reads tests/vectors/*.json (written from the Python reference by tests/vectors/generate.py)
///         and checks that the Solidity rules (Commitments, QuantMath, OpenZeppelin MerkleProof, the
///         registry's model validation) reproduce every case.
contract VectorsTest is Test {
    LibHarness internal h;
    ModelRegistry internal registry;
    ToggleVerifier internal verifier;

    function setUp() public {
        h = new LibHarness();
        registry = new ModelRegistry();
        verifier = new ToggleVerifier();
    }

    function _read(string memory name) internal view returns (string memory) {
        return vm.readFile(string.concat(vm.projectRoot(), "/tests/vectors/", name));
    }

    function _key(string memory prefix, uint256 i, string memory suffix) internal pure returns (string memory) {
        return string.concat(prefix, "[", vm.toString(i), "]", suffix);
    }

    function _count(string memory json, string memory arrayKey) internal view returns (uint256 n) {
        while (vm.keyExistsJson(json, _key(arrayKey, n, ""))) ++n;
    }

    // ------------------------------------------------------------------ act_hash.json

    function test_vectors_actHash() public view {
        string memory json = _read("act_hash.json");
        bytes[] memory vectors = vm.parseJsonBytesArray(json, ".vectors");
        uint256[] memory lengths = vm.parseJsonUintArray(json, ".lengths");
        bytes32[] memory hashes = vm.parseJsonBytes32Array(json, ".hashes");
        assertEq(vectors.length, hashes.length);
        assertEq(vectors.length, lengths.length);
        assertGe(vectors.length, 10);
        for (uint256 i; i < vectors.length; ++i) {
            assertEq(vectors[i].length, lengths[i], "length");
            assertEq(h.actHash(vectors[i]), hashes[i], string.concat("actHash #", vm.toString(i)));
        }
    }

    // ------------------------------------------------------------------ merkle.json

    function test_vectors_merkle() public view {
        string memory json = _read("merkle.json");
        uint256 trees = _count(json, ".trees");
        assertGe(trees, 5);
        for (uint256 t; t < trees; ++t) {
            string memory base = _key(".trees", t, "");
            bytes32[] memory leaves = vm.parseJsonBytes32Array(json, string.concat(base, ".leaves"));
            bytes32 root = vm.parseJsonBytes32(json, string.concat(base, ".root"));
            assertEq(MerkleBuilder.root(leaves), root, "root");
            for (uint256 j; j < leaves.length; ++j) {
                bytes32[] memory proof = vm.parseJsonBytes32Array(json, _key(string.concat(base, ".proofs"), j, ""));
                assertTrue(MerkleProof.verify(proof, root, leaves[j]), "OZ verify");
                _assertSame(proof, MerkleBuilder.proof(leaves, j));
            }
        }
    }

    function _assertSame(bytes32[] memory a, bytes32[] memory b) internal pure {
        assertEq(a.length, b.length, "proof length");
        for (uint256 i; i < a.length; ++i) {
            assertEq(a[i], b[i], "proof element");
        }
    }

    // ------------------------------------------------------------------ requant.json

    function test_vectors_requant_all() public view {
        string memory json = _read("requant.json");
        int256[] memory z = vm.parseJsonIntArray(json, ".z");
        uint256[] memory m = vm.parseJsonUintArray(json, ".multiplier");
        uint256[] memory k = vm.parseJsonUintArray(json, ".shift");
        uint256[] memory act = vm.parseJsonUintArray(json, ".activation");
        int256[] memory expected = vm.parseJsonIntArray(json, ".expected");
        uint256 n = z.length;
        assertGe(n, 10_000, "at least 10,000 cases");
        assertEq(vm.parseJsonUint(json, ".count"), n);
        assertEq(m.length, n);
        assertEq(k.length, n);
        assertEq(act.length, n);
        assertEq(expected.length, n);
        for (uint256 i; i < n; ++i) {
            assertLe(m[i], 2 ** 31 - 1);
            assertTrue(k[i] >= 1 && k[i] <= 62);
            assertLe(act[i], 1);
        }
        int256[] memory got = h.requantMany(z, m, k, act);
        for (uint256 i; i < n; ++i) {
            if (got[i] != expected[i]) {
                revert(string.concat("requant case #", vm.toString(i), " differs"));
            }
        }
    }

    // ------------------------------------------------------------------ trace_receipt.json

    function test_vectors_traces() public view {
        string memory json = _read("trace_receipt.json");
        uint256 traces = _count(json, ".traces");
        assertGe(traces, 3);
        for (uint256 t; t < traces; ++t) {
            string memory base = _key(".traces", t, "");
            bytes[] memory vectors = vm.parseJsonBytesArray(json, string.concat(base, ".vectors"));
            uint256[] memory hidden = vm.parseJsonUintArray(json, string.concat(base, ".hidden"));
            bytes32[] memory act = vm.parseJsonBytes32Array(json, string.concat(base, ".act_hashes"));
            bytes32[] memory leaves = vm.parseJsonBytes32Array(json, string.concat(base, ".leaves"));
            bytes32 root = vm.parseJsonBytes32(json, string.concat(base, ".root"));
            assertEq(act.length, vectors.length);
            assertEq(leaves.length, vectors.length);
            for (uint256 i; i < vectors.length; ++i) {
                bool isHidden;
                for (uint256 x; x < hidden.length; ++x) {
                    if (hidden[x] == i) isHidden = true;
                }
                assertEq(act[i], isHidden ? bytes32(0) : h.actHash(vectors[i]), "act hash");
                // forge-lint: disable-next-line(unsafe-typecast)
                assertEq(h.traceLeaf(uint32(i), act[i]), leaves[i], "trace leaf");
            }
            assertEq(MerkleBuilder.root(leaves), root, "trace root");
            for (uint256 i; i < leaves.length; ++i) {
                bytes32[] memory proof = vm.parseJsonBytes32Array(json, _key(string.concat(base, ".proofs"), i, ""));
                assertTrue(MerkleProof.verify(proof, root, leaves[i]));
                _assertSame(proof, MerkleBuilder.proof(leaves, i));
            }
        }
    }

    function test_vectors_receiptsAndBatch() public view {
        string memory json = _read("trace_receipt.json");
        uint256 n = _count(json, ".receipts");
        assertGe(n, 3);
        bytes32[] memory batchLeaves = vm.parseJsonBytes32Array(json, ".batch.leaves");
        assertEq(batchLeaves.length, n);
        assertEq(vm.parseJsonUint(json, ".batch.size"), n);
        for (uint256 r; r < n; ++r) {
            Receipt memory rc = _receipt(json, _key(".receipts", r, ""));
            bytes32 leaf = vm.parseJsonBytes32(json, _key(".receipts", r, ".leaf"));
            assertEq(h.receiptLeaf(rc), leaf, "receipt leaf");
            assertEq(batchLeaves[r], leaf);
            assertEq(
                h.resultHash(rc.outputHash, rc.traceRoot),
                vm.parseJsonBytes32(json, _key(".receipts", r, ".result_hash")),
                "result hash"
            );
            assertEq(
                h.claimKey(ClaimSource.Batch, r + 1, leaf),
                vm.parseJsonBytes32(json, _key(".receipts", r, ".batch_claim_key")),
                "batch claim key"
            );
            assertEq(
                h.claimKey(ClaimSource.Request, rc.requestId, leaf),
                vm.parseJsonBytes32(json, _key(".receipts", r, ".request_claim_key")),
                "request claim key"
            );
        }
        bytes32 root = vm.parseJsonBytes32(json, ".batch.root");
        assertEq(MerkleBuilder.root(batchLeaves), root, "batch root");
        for (uint256 r; r < n; ++r) {
            bytes32[] memory proof = vm.parseJsonBytes32Array(json, _key(".batch.proofs", r, ""));
            assertTrue(MerkleProof.verify(proof, root, batchLeaves[r]));
            _assertSame(proof, MerkleBuilder.proof(batchLeaves, r));
        }
    }

    function test_vectors_jobIds() public view {
        string memory json = _read("trace_receipt.json");
        uint256 n = _count(json, ".job_ids");
        assertGe(n, 5);
        for (uint256 j; j < n; ++j) {
            string memory base = _key(".job_ids", j, "");
            assertEq(
                h.jobId(
                    vm.parseJsonUint(json, string.concat(base, ".chain_id")),
                    vm.parseJsonAddress(json, string.concat(base, ".game")),
                    vm.parseJsonUint(json, string.concat(base, ".demand_id"))
                ),
                vm.parseJsonBytes32(json, string.concat(base, ".job_id")),
                "job id"
            );
        }
    }

    function _receipt(string memory json, string memory base) internal pure returns (Receipt memory rc) {
        rc.requestId = vm.parseJsonUint(json, string.concat(base, ".request_id"));
        rc.modelId = vm.parseJsonBytes32(json, string.concat(base, ".model_id"));
        rc.inputHash = vm.parseJsonBytes32(json, string.concat(base, ".input_hash"));
        rc.outputHash = vm.parseJsonBytes32(json, string.concat(base, ".output_hash"));
        rc.traceRoot = vm.parseJsonBytes32(json, string.concat(base, ".trace_root"));
        rc.node = vm.parseJsonAddress(json, string.concat(base, ".node"));
        rc.client = vm.parseJsonAddress(json, string.concat(base, ".client"));
    }

    // ------------------------------------------------------------------ weights.json

    function test_vectors_weights() public view {
        string memory json = _read("weights.json");
        uint256 layers = _count(json, ".layers");
        assertGe(layers, 3);
        for (uint256 l; l < layers; ++l) {
            string memory base = _key(".layers", l, "");
            uint256 m = vm.parseJsonUint(json, string.concat(base, ".m"));
            uint256 n = vm.parseJsonUint(json, string.concat(base, ".n"));
            bytes[] memory rows = vm.parseJsonBytesArray(json, string.concat(base, ".rows"));
            int256[] memory biases = vm.parseJsonIntArray(json, string.concat(base, ".biases"));
            bytes32[] memory leaves = vm.parseJsonBytes32Array(json, string.concat(base, ".leaves"));
            bytes32 root = vm.parseJsonBytes32(json, string.concat(base, ".root"));
            assertEq(rows.length, m);
            assertEq(leaves.length, m);
            for (uint256 j; j < m; ++j) {
                assertEq(rows[j].length, n);
                assertTrue(biases[j] >= type(int32).min && biases[j] <= type(int32).max);
                // forge-lint: disable-next-line(unsafe-typecast)
                assertEq(h.weightRowLeaf(uint32(j), int32(biases[j]), rows[j]), leaves[j], "weight row leaf");
            }
            assertEq(MerkleBuilder.root(leaves), root, "weight root");
            for (uint256 j; j < m; ++j) {
                bytes32[] memory proof = vm.parseJsonBytes32Array(json, _key(string.concat(base, ".proofs"), j, ""));
                assertTrue(MerkleProof.verify(proof, root, leaves[j]));
                _assertSame(proof, MerkleBuilder.proof(leaves, j));
            }
        }
    }

    // ------------------------------------------------------------------ model_id.json

    struct ModelDoc {
        LayerHeader[] headers;
        bytes32[] roots;
        PartitionSpec[] partitions;
        address[] verifiers;
    }

    function _model(string memory json, string memory base) internal view returns (ModelDoc memory d) {
        uint256[] memory inDim = vm.parseJsonUintArray(json, string.concat(base, ".headers.in_dim"));
        uint256[] memory outDim = vm.parseJsonUintArray(json, string.concat(base, ".headers.out_dim"));
        uint256[] memory mult = vm.parseJsonUintArray(json, string.concat(base, ".headers.multiplier"));
        uint256[] memory shift = vm.parseJsonUintArray(json, string.concat(base, ".headers.shift"));
        uint256[] memory act = vm.parseJsonUintArray(json, string.concat(base, ".headers.activation"));
        d.headers = new LayerHeader[](inDim.length);
        for (uint256 i; i < inDim.length; ++i) {
            // forge-lint: disable-next-line(unsafe-typecast)
            d.headers[i] =
                LayerHeader(uint32(inDim[i]), uint32(outDim[i]), uint32(mult[i]), uint8(shift[i]), uint8(act[i]));
            assertEq(d.headers[i].multiplier, mult[i], "multiplier fits uint32");
        }
        d.roots = vm.parseJsonBytes32Array(json, string.concat(base, ".weight_roots"));
        uint256[] memory first = vm.parseJsonUintArray(json, string.concat(base, ".partitions.first_layer"));
        uint256[] memory last = vm.parseJsonUintArray(json, string.concat(base, ".partitions.last_layer"));
        bool[] memory sensitive = vm.parseJsonBoolArray(json, string.concat(base, ".partitions.sensitive"));
        bytes32[] memory wc = vm.parseJsonBytes32Array(json, string.concat(base, ".partitions.weight_commitment"));
        bytes32[] memory setup = vm.parseJsonBytes32Array(json, string.concat(base, ".partitions.setup_id"));
        d.partitions = new PartitionSpec[](first.length);
        d.verifiers = new address[](first.length);
        for (uint256 p; p < first.length; ++p) {
            // forge-lint: disable-next-line(unsafe-typecast)
            d.partitions[p] = PartitionSpec(uint32(first[p]), uint32(last[p]), sensitive[p], wc[p], setup[p]);
            if (sensitive[p]) d.verifiers[p] = address(verifier);
        }
    }

    function test_vectors_modelIds() public {
        string memory json = _read("model_id.json");
        assertEq(h.modelDomain(), vm.parseJsonBytes32(json, ".domain"), "domain");
        assertEq(keccak256("opzk.model.v1"), vm.parseJsonBytes32(json, ".domain"));
        uint256 n = _count(json, ".models");
        assertGe(n, 3);
        for (uint256 i; i < n; ++i) {
            string memory base = _key(".models", i, "");
            ModelDoc memory d = _model(json, base);
            bytes32 expected = vm.parseJsonBytes32(json, string.concat(base, ".model_id"));
            assertEq(vm.parseJsonUint(json, string.concat(base, ".layer_count")), d.headers.length);
            assertEq(h.modelId(d.headers, d.roots, d.partitions), expected, "modelId");
            // The registry accepts the model and agrees on its id and hidden trace entries.
            bytes32 id = registry.registerModel(d.headers, d.roots, d.partitions, d.verifiers);
            assertEq(id, expected, "registered id");
            uint256[] memory hidden = vm.parseJsonUintArray(json, string.concat(base, ".hidden_trace_indices"));
            for (uint256 t; t <= d.headers.length; ++t) {
                bool isHidden;
                for (uint256 x; x < hidden.length; ++x) {
                    if (hidden[x] == t) isHidden = true;
                }
                assertEq(registry.isPublicTraceIndex(id, t), !isHidden, "isPublicTraceIndex");
            }
        }
    }

    function _expectedSelector(string memory rule) internal pure returns (bytes4) {
        bytes32 r = keccak256(bytes(rule));
        if (r == keccak256("no layers")) return ModelRegistry.EmptyModel.selector;
        if (r == keccak256("zero in_dim") || r == keccak256("zero out_dim")) {
            return ModelRegistry.InvalidDimension.selector;
        }
        if (r == keccak256("multiplier >= 2^31")) return ModelRegistry.InvalidMultiplier.selector;
        if (r == keccak256("shift 0") || r == keccak256("shift 63")) return ModelRegistry.InvalidShift.selector;
        if (r == keccak256("activation 2")) return ModelRegistry.InvalidActivation.selector;
        if (r == keccak256("in_dim != previous out_dim")) return ModelRegistry.DimensionMismatch.selector;
        if (r == keccak256("weight root count != layer count")) return ModelRegistry.LengthMismatch.selector;
        if (
            r == keccak256("no partitions") || r == keccak256("first partition does not start at 1")
                || r == keccak256("gap between partitions") || r == keccak256("partitions do not reach the last layer")
                || r == keccak256("partition past the last layer") || r == keccak256("last_layer < first_layer")
        ) return ModelRegistry.PartitionsNotContiguous.selector;
        if (
            r == keccak256("public partition with a weight commitment")
                || r == keccak256("public partition with a setup id")
        ) {
            return ModelRegistry.UnexpectedCommitment.selector;
        }
        if (r == keccak256("public layer with a zero weight root")) return ModelRegistry.MissingWeightRoot.selector;
        if (r == keccak256("sensitive partition without a weight commitment")) {
            return ModelRegistry.MissingCommitment.selector;
        }
        if (r == keccak256("sensitive layer with a non-zero weight root")) {
            return ModelRegistry.UnexpectedWeightRoot.selector;
        }
        return bytes4(0); // unknown rule: any custom error will do
    }

    function test_vectors_invalidModelsRejected() public {
        string memory json = _read("model_id.json");
        uint256 n = _count(json, ".invalid_models");
        assertGe(n, 10);
        for (uint256 i; i < n; ++i) {
            string memory base = _key(".invalid_models", i, "");
            string memory rule = vm.parseJsonString(json, string.concat(base, ".rule"));
            ModelDoc memory d = _model(json, base);
            try registry.registerModel(d.headers, d.roots, d.partitions, d.verifiers) returns (bytes32) {
                revert(string.concat("invalid model accepted: ", rule));
            } catch (bytes memory err) {
                assertGe(err.length, 4, rule);
                // forge-lint: disable-next-line(unsafe-typecast)
                bytes4 sel = bytes4(err);
                assertTrue(sel != bytes4(keccak256("Panic(uint256)")), string.concat("panic for: ", rule));
                bytes4 want = _expectedSelector(rule);
                if (want != bytes4(0)) assertTrue(sel == want, string.concat("wrong error for: ", rule));
            }
        }
    }
}
