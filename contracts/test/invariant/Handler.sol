// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {InferenceMarket} from "../../src/InferenceMarket.sol";
import {StakeManager} from "../../src/StakeManager.sol";
import {DataAvailabilityGame} from "../../src/disputes/DataAvailabilityGame.sol";
import {ProofDemandGame} from "../../src/disputes/ProofDemandGame.sol";
import {Claim, ClaimSource} from "../../src/lib/Types.sol";
import {ToggleVerifier} from "../doubles/ToggleVerifier.sol";
import {Fixture} from "../utils/Fixture.sol";

/// @title Handler
/// @notice Drives the whole opzk system for the solvency invariant: every action picks valid
///         arguments from the current state (so calls mostly succeed) and keeps ghost totals of the
///         ETH that went into the contracts and came out of them. An action with nothing to act on
///         returns without calling (counted as a no-op, not a success).
contract Handler is Fixture {
    uint256 internal constant NODES = 3;
    uint256 internal constant ACTORS = 4; // 0: client, 1: challenger, 2: node2's neighbour, 3: client2

    address[NODES] internal nodes;
    address[ACTORS] internal actors;

    // Ghost accounting (wei).
    uint256 public ghostDeposited;
    uint256 public ghostWithdrawn;
    uint256 public burnAtStart;

    // Call counters.
    mapping(bytes32 action => uint256) public okCount;
    uint256 public calls;
    uint256 public oks;
    uint256 public noops;

    // Claims that can be disputed.
    struct ClaimInfo {
        bool sensitiveModel;
        bool bad;
        uint32 badLayer;
        uint32 badRow;
    }

    bytes[] internal _claims; // abi.encode(Made)
    ClaimInfo[] internal _infos;

    // On-chain requests.
    uint256[] internal _pending;
    mapping(uint256 requestId => uint256 inputSeed) internal _inputSeed;
    mapping(uint256 requestId => bool) internal _isSensitive;
    uint256[] internal _fulfilled;
    uint256[] internal _batches;

    // Open disputes.
    uint256[] internal _openDA;
    uint256[] internal _openDemands;
    mapping(uint256 id => uint256 claimIndex) internal _daClaim;
    mapping(uint256 id => uint256 claimIndex) internal _demandClaim;

    constructor() {
        setUp();
        nodes = [node, node2, makeAddr("node3")];
        actors = [client, challenger, makeAddr("watcher"), makeAddr("client2")];
        burnAtStart = BURN.balance;
        for (uint256 i; i < NODES; ++i) {
            _stake(nodes[i], NODE_STAKE);
            ghostDeposited += NODE_STAKE;
            _serve(nodes[i], publicModel);
            _serve(nodes[i], sensitiveModel);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Views for the invariant test
    // ---------------------------------------------------------------------------------------------

    function stakesAddr() external view returns (StakeManager) {
        return stakes;
    }

    function marketAddr() external view returns (InferenceMarket) {
        return market;
    }

    function openDACount() external view returns (uint256) {
        return _openDA.length;
    }

    function openDemandCount() external view returns (uint256) {
        return _openDemands.length;
    }

    function burnt() external view returns (uint256) {
        return BURN.balance - burnAtStart;
    }

    // ---------------------------------------------------------------------------------------------
    // Bookkeeping helpers
    // ---------------------------------------------------------------------------------------------

    modifier counted(bytes32 action) {
        ++calls;
        uint256 before = oks;
        _;
        if (oks > before) ++okCount[action];
    }

    function _ok() internal {
        ++oks;
    }

    function _noop() internal {
        ++noops;
    }

    function _remove(uint256[] storage list, uint256 i) internal {
        list[i] = list[list.length - 1];
        list.pop();
    }

    function _fund(address who, uint256 amount) internal {
        vm.deal(who, who.balance + amount);
    }

    function _claim(uint256 i) internal view returns (Made memory m) {
        m = abi.decode(_claims[i], (Made));
    }

    function _spec(bool sensitive) internal view returns (ModelSpec memory) {
        return sensitive ? _sensitiveSpec() : _publicSpec();
    }

    function _addClaim(Made memory m, ClaimInfo memory info) internal {
        _claims.push(abi.encode(m));
        _infos.push(info);
    }

    /// @dev A claim still inside its window and not slashed, or reverts-free "no" otherwise.
    function _disputable(Made memory m) internal view returns (bool ok, Claim memory c) {
        c = market.authenticate(m.ref);
        ok = block.timestamp < c.windowEnd && !market.fraudulent(c.key);
    }

    function _trace(ModelSpec memory s, uint256 inputSeed, bool bad, uint256 layerSeed)
        internal
        pure
        returns (bytes[] memory h, ClaimInfo memory info)
    {
        bool sensitive = s.headers.length == 4;
        info.sensitiveModel = sensitive;
        bytes memory input = _input(inputSeed, 4);
        if (!bad) return (_forward(s, input), info);
        // Tamper a public layer: public model 1 or 2; sensitive model 1 or 4.
        // forge-lint: disable-next-line(unsafe-typecast)
        uint32 layer = sensitive ? (layerSeed % 2 == 0 ? 1 : 4) : uint32(1 + layerSeed % 2);
        uint32 row = uint32((layerSeed >> 8) % s.headers[layer - 1].outDim);
        info.bad = true;
        info.badLayer = layer;
        info.badRow = row;
        h = _forwardTampered(s, input, layer, row);
    }

    // ---------------------------------------------------------------------------------------------
    // Stakes
    // ---------------------------------------------------------------------------------------------

    function stake(uint256 nodeSeed, uint256 amount) external counted("stake") {
        address n = nodes[nodeSeed % NODES];
        amount = bound(amount, 1 ether, 30 ether);
        _fund(n, amount);
        vm.prank(n);
        stakes.stake{value: amount}();
        ghostDeposited += amount;
        _ok();
    }

    function requestWithdrawal(uint256 nodeSeed, uint256 amount) external counted("requestWithdrawal") {
        address n = nodes[nodeSeed % NODES];
        (uint256 active,,) = stakes.stakeOf(n);
        if (active == 0) return _noop();
        amount = bound(amount, 1, active);
        vm.prank(n);
        stakes.requestWithdrawal(amount);
        _ok();
    }

    function withdrawStake(uint256 nodeSeed) external counted("withdrawStake") {
        address n = nodes[nodeSeed % NODES];
        (uint256 active, uint256 pending, uint64 unlockAt) = stakes.stakeOf(n);
        if (pending == 0) {
            if (active == 0) return _noop();
            vm.prank(n);
            stakes.requestWithdrawal(1 + nodeSeed % active);
            (, pending, unlockAt) = stakes.stakeOf(n);
        }
        if (block.timestamp < unlockAt) vm.warp(unlockAt);
        uint256 before = n.balance;
        vm.prank(n);
        stakes.withdrawStake();
        ghostWithdrawn += n.balance - before;
        _ok();
    }

    function withdrawCredits(uint256 who, bool fromMarket) external counted("withdrawCredits") {
        address[7] memory everyone = [nodes[0], nodes[1], nodes[2], actors[0], actors[1], actors[2], actors[3]];
        address a;
        for (uint256 t; t < 14; ++t) {
            uint256 k = (who % 14 + t) % 14;
            address cand = everyone[k % 7];
            bool m = k >= 7 ? !fromMarket : fromMarket;
            if ((m ? market.credits(cand) : stakes.credits(cand)) != 0) {
                a = cand;
                fromMarket = m;
                break;
            }
        }
        if (a == address(0)) return _noop();
        uint256 before = a.balance;
        vm.prank(a);
        if (fromMarket) market.withdrawCredits();
        else stakes.withdrawCredits();
        ghostWithdrawn += a.balance - before;
        _ok();
    }

    function warp(uint256 secondsAhead) external counted("warp") {
        vm.warp(block.timestamp + bound(secondsAhead, 1, 2 hours));
        _ok();
    }

    // ---------------------------------------------------------------------------------------------
    // Batches
    // ---------------------------------------------------------------------------------------------

    /// @dev An active node, starting the search at `seed`; if none is active, `seed`'s node stakes.
    function _activeNode(uint256 seed) internal returns (address) {
        for (uint256 t; t < NODES; ++t) {
            address n = nodes[(seed % NODES + t) % NODES];
            if (stakes.isActiveNode(n)) return n;
        }
        address revived = nodes[seed % NODES];
        _stake(revived, NODE_STAKE);
        ghostDeposited += NODE_STAKE;
        return revived;
    }

    /// @dev Commits a batch claim by an active node; returns the claim's index.
    function _newBatchClaim(uint256 seed, bool sensitive, bool bad) internal returns (uint256) {
        address n = _activeNode(seed);
        ModelSpec memory s = _spec(sensitive);
        (bytes[] memory h, ClaimInfo memory info) = _trace(s, seed, bad, seed >> 16);
        Made memory m = _commitTrace(s, sensitive ? sensitiveModel : publicModel, n, h);
        _addClaim(m, info);
        _batches.push(m.ref.containerId);
        return _claims.length - 1;
    }

    function commitBatch(uint256 seed, bool sensitive, bool bad) external counted("commitBatch") {
        _newBatchClaim(seed, sensitive, bad);
        _ok();
    }

    function finalizeBatch(uint256 seed) external counted("finalizeBatch") {
        uint256 len = _batches.length;
        for (uint256 t; t < len; ++t) {
            uint256 i = (seed % len + t) % len;
            uint256 id = _batches[i];
            if (market.openDisputes(ClaimSource.Batch, id) != 0) continue;
            uint256 windowEnd = uint256(market.batch(id).committedAt) + params.challengeWindow;
            if (block.timestamp < windowEnd) vm.warp(windowEnd);
            market.finalizeBatch(id);
            _remove(_batches, i);
            return _ok();
        }
        _noop();
    }

    // ---------------------------------------------------------------------------------------------
    // On-chain requests
    // ---------------------------------------------------------------------------------------------

    function _newRequest(uint256 who, bool sensitive, uint256 inputSeed, uint256 fee) internal returns (uint256 id) {
        _activeNode(who); // someone must serve it
        address c = actors[(who % 2) * 3]; // client or client2
        fee = bound(fee, params.minRequestFee, 1 ether);
        _fund(c, fee);
        vm.prank(c);
        id = market.requestInference{value: fee}(sensitive ? sensitiveModel : publicModel, _input(inputSeed, 4));
        ghostDeposited += fee;
        _pending.push(id);
        _inputSeed[id] = inputSeed;
        _isSensitive[id] = sensitive;
    }

    function requestInference(uint256 who, bool sensitive, uint256 inputSeed, uint256 fee)
        external
        counted("requestInference")
    {
        _newRequest(who, sensitive, inputSeed, fee);
        _ok();
    }

    function fulfil(uint256 seed, bool bad) external counted("fulfil") {
        uint256 len = _pending.length;
        for (uint256 t; t < len; ++t) {
            uint256 i = (seed % len + t) % len;
            if (_tryFulfil(i, bad, seed >> 8)) return _ok();
        }
        // Nothing can be fulfilled: make a request and fulfil it.
        _newRequest(seed, seed % 3 == 0, seed >> 4, seed >> 128);
        if (_tryFulfil(_pending.length - 1, bad, seed >> 8)) return _ok();
        _noop();
    }

    function _tryFulfil(uint256 i, bool bad, uint256 layerSeed) internal returns (bool) {
        uint256 id = _pending[i];
        InferenceMarket.Request memory r = market.request(id);
        if (block.timestamp > r.deadline || !stakes.isActiveNode(r.node)) return false;
        ModelSpec memory s = _spec(_isSensitive[id]);
        (bytes[] memory h, ClaimInfo memory info) = _trace(s, _inputSeed[id], bad, layerSeed);
        Made memory m = _fulfilClaim(id, r.node, h[h.length - 1], h, _actHashes(s, h));
        _addClaim(m, info);
        _remove(_pending, i);
        _fulfilled.push(id);
        return true;
    }

    function refundExpired(uint256 seed) external counted("refundExpired") {
        if (_pending.length == 0) _newRequest(seed, seed % 2 == 0, seed >> 4, seed >> 128);
        uint256 i = seed % _pending.length;
        uint256 id = _pending[i];
        uint64 deadline = market.request(id).deadline;
        if (block.timestamp <= deadline) vm.warp(uint256(deadline) + 1);
        vm.prank(actors[2]);
        market.refundExpired(id);
        _remove(_pending, i);
        _ok();
    }

    function finalizeRequests(uint256 seed) external counted("finalizeRequests") {
        uint256 t;
        while (t < _fulfilled.length) {
            uint256 len = _fulfilled.length;
            uint256 i = (seed % len + t) % len;
            uint256 id = _fulfilled[i];
            InferenceMarket.Request memory r = market.request(id);
            if (r.status != InferenceMarket.RequestStatus.Fulfilled) {
                _remove(_fulfilled, i); // slashed meanwhile
                continue;
            }
            ++t;
            if (market.openDisputes(ClaimSource.Request, id) != 0) continue;
            uint256 windowEnd = uint256(r.fulfilledAt) + params.challengeWindow;
            if (block.timestamp < windowEnd) vm.warp(windowEnd);
            uint256[] memory ids = new uint256[](1);
            ids[0] = id;
            market.finalizeRequests(ids);
            _remove(_fulfilled, i);
            return _ok();
        }
        _noop();
    }

    // ---------------------------------------------------------------------------------------------
    // Disputes
    // ---------------------------------------------------------------------------------------------

    function proveFraud(uint256 seed) external counted("proveFraud") {
        uint256 len = _claims.length;
        uint256 pick = type(uint256).max;
        for (uint256 t; t < len; ++t) {
            uint256 i = (seed % len + t) % len;
            if (!_infos[i].bad) continue;
            (bool ok,) = _disputable(_claim(i));
            if (ok) {
                pick = i;
                break;
            }
        }
        if (pick == type(uint256).max) pick = _newBatchClaim(seed, seed % 2 == 0, true);
        ClaimInfo memory info = _infos[pick];
        Made memory m = _claim(pick);
        vm.prank(actors[1 + (seed % 2)]);
        fraud.proveLayerFraud(m.ref, _layerFraud(_spec(info.sensitiveModel), m, info.badLayer, info.badRow));
        _ok();
    }

    function _openData(uint256 seed, uint256 indexSeed) internal returns (bool) {
        uint256 len = _claims.length;
        for (uint256 t; t <= len; ++t) {
            uint256 i = t < len ? (seed % len + t) % len : _newBatchClaim(seed, seed % 2 == 0, seed % 3 == 0);
            Made memory m = _claim(i);
            (bool ok, Claim memory c) = _disputable(m);
            if (!ok) continue;
            ModelSpec memory s = _spec(_infos[i].sensitiveModel);
            // forge-lint: disable-next-line(unsafe-typecast)
            uint32 index = uint32(indexSeed % (s.headers.length + 1));
            if (_isHiddenIndex(s, index)) index = 0;
            if (da.openChallengeOf(c.key, index) != 0) continue;
            address ch = actors[1 + (seed % 2)];
            uint256 bond = params.dataBond;
            _fund(ch, bond);
            vm.prank(ch);
            uint256 id = da.challenge{value: bond}(m.ref, index);
            ghostDeposited += bond;
            _openDA.push(id);
            _daClaim[id] = i;
            return true;
        }
        return false;
    }

    function challengeData(uint256 seed, uint256 indexSeed) external counted("challengeData") {
        if (_openData(seed, indexSeed)) return _ok();
        _noop();
    }

    function resolveData(uint256 seed, bool publish) external counted("resolveData") {
        if (_openDA.length == 0 && !_openData(seed, seed >> 8)) return _noop();
        uint256 k = seed % _openDA.length;
        uint256 id = _openDA[k];
        DataAvailabilityGame.DataChallenge memory ch = da.getChallenge(id);
        if (publish && block.timestamp <= ch.deadline) {
            Made memory m = _claim(_daClaim[id]);
            vm.prank(m.ref.receipt.node);
            da.publish(id, m.h[ch.index], _traceProof(m, ch.index));
        } else {
            if (block.timestamp <= ch.deadline) vm.warp(uint256(ch.deadline) + 1);
            da.resolveTimeout(id);
        }
        _remove(_openDA, k);
        _ok();
    }

    function _openDemand(uint256 seed) internal returns (bool) {
        uint256 len = _claims.length;
        for (uint256 t; t <= len; ++t) {
            uint256 i = t < len ? (seed % len + t) % len : _newBatchClaim(seed, true, seed % 3 == 0);
            if (!_infos[i].sensitiveModel) continue;
            Made memory m = _claim(i);
            (bool ok, Claim memory c) = _disputable(m);
            if (!ok || proofs.openDemandOf(c.key, 1) != 0) continue;
            address ch = actors[1 + (seed % 2)];
            uint256 bond = params.proofBond;
            _fund(ch, bond);
            vm.prank(ch);
            uint256 id = proofs.demandProof{value: bond}(m.ref, 1);
            ghostDeposited += bond;
            _openDemands.push(id);
            _demandClaim[id] = i;
            return true;
        }
        return false;
    }

    function demandProof(uint256 seed) external counted("demandProof") {
        if (_openDemand(seed)) return _ok();
        _noop();
    }

    /// @param outcome 0: valid proof, 1: rejected proof, 2: reverting verifier, 3: timeout.
    function resolveDemand(uint256 seed, uint8 outcome) external counted("resolveDemand") {
        if (_openDemands.length == 0 && !_openDemand(seed)) return _noop();
        uint256 k = seed % _openDemands.length;
        uint256 id = _openDemands[k];
        ProofDemandGame.ProofDemand memory d = proofs.getDemand(id);
        outcome = outcome % 4;
        if (outcome < 3 && block.timestamp <= d.deadline) {
            verifier.setMode(ToggleVerifier.Mode(outcome));
            Made memory m = _claim(_demandClaim[id]);
            ProofDemandGame.PartitionIO memory io = _partitionIO(m, 2, 3);
            vm.prank(d.claim.node);
            proofs.submitProof(id, io, hex"01");
        } else {
            if (block.timestamp <= d.deadline) vm.warp(uint256(d.deadline) + 1);
            proofs.resolveTimeout(id);
        }
        _remove(_openDemands, k);
        _ok();
    }
}
