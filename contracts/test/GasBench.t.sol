// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {InferenceMarket} from "../src/InferenceMarket.sol";
import {FraudProofGame} from "../src/disputes/FraudProofGame.sol";
import {ClaimRef, ClaimSource, LayerHeader, PartitionSpec, Receipt} from "../src/lib/Types.sol";
import {Fixture} from "./utils/Fixture.sol";
import {console} from "./utils/Test.sol";
import {MerkleBuilder, RefMath} from "./utils/TestLib.sol";

/// @notice Shared measuring helpers. The state a measured call touches is prepared in setUp(), which
///         forge runs as its own transaction, so the measured call sees cold accounts and slots with
///         their committed original values, as a real transaction would.
abstract contract GasBench is Fixture {
    /// @dev Intrinsic gas of a transaction with calldata `data` (EIP-2028 pricing), and the EIP-7623
    ///      (Prague) calldata floor: a transaction pays max(21000 + standard + execution, floor).
    function _intrinsic(bytes memory data) internal pure returns (uint256 standard, uint256 floor) {
        uint256 zeros;
        for (uint256 i; i < data.length; ++i) {
            if (data[i] == 0) ++zeros;
        }
        uint256 nonZeros = data.length - zeros;
        standard = 21_000 + 4 * zeros + 16 * nonZeros;
        floor = 21_000 + 10 * (zeros + 4 * nonZeros);
    }

    /// @dev Gas used by a call to `target` with `data`, measured around the call.
    function _measure(address from, address target, bytes memory data) internal returns (uint256 used) {
        vm.prank(from);
        uint256 before = gasleft();
        (bool ok, bytes memory ret) = target.call(data);
        used = before - gasleft();
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
    }

    /// @dev Whether forge runs each top-level call as its own transaction (`--isolate`, which
    ///      `--gas-report` turns on): then a measured call already includes the intrinsic gas.
    function _isolated() internal returns (bool) {
        uint256 before = gasleft();
        (bool ok,) = address(market).call(abi.encodeWithSignature("batchCount()"));
        require(ok, "probe failed");
        return before - gasleft() >= 21_000;
    }

    /// @dev Whole-transaction gas of calling `target` with `data` from `from`, and its execution part.
    ///      Not isolated: execution is measured around the call (including the CALL's cold-account
    ///      surcharge, which a real transaction's `to` does not pay, so it slightly overestimates) and
    ///      the transaction pays max(21000 + calldata + execution, EIP-7623 floor). Isolated: the
    ///      measurement is the transaction's gas.
    function _txGas(address from, address target, bytes memory data)
        internal
        returns (uint256 txGas, uint256 execution)
    {
        bool isolated = _isolated();
        uint256 measured = _measure(from, target, data);
        (uint256 standard, uint256 floor) = _intrinsic(data);
        if (isolated) {
            txGas = measured;
            execution = measured > standard ? measured - standard : 0;
        } else {
            execution = measured;
            txGas = standard + execution > floor ? standard + execution : floor;
        }
    }
}

contract GasCommitBatchTest is GasBench {
    function setUp() public override {
        super.setUp();
        _stake(node, NODE_STAKE);
        _commit(node, keccak256("first"), 1); // batchCount is non-zero, as on a live market
    }

    function test_gas_commitBatch() public {
        bytes memory data = abi.encodeCall(InferenceMarket.commitBatch, (keccak256("root"), 256));
        (uint256 txGas, uint256 exec) = _txGas(node, address(market), data);
        console.log("commitBatch execution gas", exec);
        console.log("commitBatch whole-tx gas", txGas);
        console.log("per inference, batch of 64", txGas / 64);
        console.log("per inference, batch of 256", txGas / 256);
        assertLe(txGas, 100_000);
    }
}

contract GasFulfil64Test is GasBench {
    uint256 internal constant N = 64;
    bytes internal fulfilCalldata;

    function setUp() public override {
        super.setUp();
        _stake(node, NODE_STAKE);
        _serve(node, publicModel);
        vm.deal(client, 100 ether);
        ModelSpec memory s = _publicSpec();
        uint256[] memory ids = new uint256[](N);
        bytes[] memory outs = new bytes[](N);
        bytes32[] memory roots = new bytes32[](N);
        for (uint256 i; i < N; ++i) {
            bytes[] memory h = _forward(s, _input(i, 4));
            ids[i] = _requestInference(client, publicModel, h[0]);
            outs[i] = h[2];
            roots[i] = MerkleBuilder.root(_traceLeaves(_actHashes(s, h)));
        }
        fulfilCalldata = abi.encodeCall(InferenceMarket.fulfil, (ids, outs, roots));
    }

    function test_gas_fulfil64() public {
        bytes memory data = fulfilCalldata;
        (uint256 txGas, uint256 exec) = _txGas(node, address(market), data);
        console.log("fulfil(64) execution gas", exec);
        console.log("fulfil(64) calldata bytes", data.length);
        console.log("fulfil(64) whole-tx gas", txGas);
        console.log("fulfil per request, incl. 21000 amortized", txGas / N);
        assertLe(txGas / N, 40_000, "fulfil must cost <= 40,000 gas per request");
        for (uint256 i = 1; i <= N; ++i) {
            assertTrue(market.request(i).status == InferenceMarket.RequestStatus.Fulfilled);
        }
    }
}

contract GasLayerFraud1024Test is GasBench {
    uint256 internal constant DIM = 1024;
    uint32 internal constant DIM32 = 1024;
    uint256 internal constant SEED = 77;
    uint32 internal constant ROW = 517;
    bytes internal fraudCalldata;

    function setUp() public override {
        super.setUp();
        vm.deal(BURN, 1); // on a live chain the burn address is not an empty account
        _stake(node, NODE_STAKE);
        (bytes32 modelId, bytes32[] memory weightLeaves) = _registerBig();
        bytes memory x = _input(1, DIM);
        bytes memory y = _claimedOutput(x);
        bytes32[] memory traceLeaves = new bytes32[](2);
        traceLeaves[0] = RefMath.traceLeaf(0, RefMath.actHash(x));
        traceLeaves[1] = RefMath.traceLeaf(1, RefMath.actHash(y));
        ClaimRef memory ref = _commitBig(modelId, x, y, MerkleBuilder.root(traceLeaves));
        FraudProofGame.LayerFraud memory f;
        f.layer = 1;
        f.input = x;
        f.inputProof = MerkleBuilder.proof(traceLeaves, 0);
        f.output = y;
        f.outputProof = MerkleBuilder.proof(traceLeaves, 1);
        f.row = ROW;
        f.weights = _row(SEED, 1, ROW, DIM);
        f.bias = _bias(SEED, 1, ROW);
        f.weightProof = MerkleBuilder.proof(weightLeaves, ROW);
        fraudCalldata = abi.encodeCall(FraudProofGame.proveLayerFraud, (ref, f));
    }

    /// @dev Registers a one-layer public model 1024 -> 1024 (relu).
    function _registerBig() internal returns (bytes32 modelId, bytes32[] memory weightLeaves) {
        LayerHeader[] memory headers = new LayerHeader[](1);
        headers[0] = LayerHeader({inDim: DIM32, outDim: DIM32, multiplier: 1 << 20, shift: 34, activation: 1});
        PartitionSpec[] memory partitions = new PartitionSpec[](1);
        partitions[0] = PartitionSpec(1, 1, false, bytes32(0), bytes32(0));
        weightLeaves = _weightLeaves(SEED, 1, DIM, DIM);
        bytes32[] memory roots = new bytes32[](1);
        roots[0] = MerkleBuilder.root(weightLeaves);
        modelId = registry.registerModel(headers, roots, partitions, new address[](1));
    }

    /// @dev Some output vector whose row ROW is wrong (the other rows do not matter to the proof).
    function _claimedOutput(bytes memory x) internal pure returns (bytes memory y) {
        y = _input(2, DIM);
        int256 z = RefMath.dot(_row(SEED, 1, ROW, DIM), x, _bias(SEED, 1, ROW));
        int256 q = RefMath.requant(z, 1 << 20, 34, 1);
        // forge-lint: disable-next-line(unsafe-typecast)
        y[ROW] = _offByOne(bytes1(uint8(int8(q))));
    }

    /// @dev Commits the claim as receipt 37 of a batch of 64.
    function _commitBig(bytes32 modelId, bytes memory x, bytes memory y, bytes32 traceRoot)
        internal
        returns (ClaimRef memory ref)
    {
        Receipt memory r = Receipt({
            requestId: 42,
            modelId: modelId,
            inputHash: RefMath.actHash(x),
            outputHash: RefMath.actHash(y),
            traceRoot: traceRoot,
            node: node,
            client: client
        });
        bytes32[] memory batchLeaves = new bytes32[](64);
        for (uint256 i; i < 64; ++i) {
            batchLeaves[i] = keccak256(abi.encode("receipt", i));
        }
        batchLeaves[37] = RefMath.receiptLeaf(r);
        uint256 batchId = _commit(node, MerkleBuilder.root(batchLeaves), 64);
        ref = ClaimRef(ClaimSource.Batch, batchId, MerkleBuilder.proof(batchLeaves, 37), r);
    }

    function test_gas_proveLayerFraud_1024x1024() public {
        bytes memory data = fraudCalldata;
        (uint256 txGas, uint256 exec) = _txGas(challenger, address(fraud), data);
        (uint256 standard, uint256 floor) = _intrinsic(data);
        console.log("proveLayerFraud(1024x1024) execution gas", exec);
        console.log("proveLayerFraud calldata bytes", data.length);
        console.log("proveLayerFraud intrinsic (21000 + calldata)", standard);
        console.log("proveLayerFraud EIP-7623 floor", floor);
        console.log("proveLayerFraud whole-tx gas", txGas);
        assertLe(txGas, 350_000, "fraud proof for a 1024x1024 layer must fit in 350,000 gas");
        (uint256 active,,) = stakes.stakeOf(node);
        assertEq(active, NODE_STAKE - 5 ether);
    }
}
