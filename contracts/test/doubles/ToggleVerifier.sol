// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IProofVerifier, PartitionStatement} from "../../src/interfaces/IProofVerifier.sol";

/// @title ToggleVerifier
/// @notice TEST DOUBLE ONLY — it verifies nothing. Its answer to `verifyPartitionProof` (true, false,
///         or a revert) is whatever the test last set with `setMode`. It exists so unit tests of
///         ProofDemandGame can drive every outcome of a proof demand without a real zk proof; it must
///         never be deployed as the verifier of a real model.
///      Its answer to `isWellFormed` is `setWellFormed`'s (default true: every commitment is "proven").
/// @dev Optionally, `expectStatement` pins the hash of the statement the game must pass; a different
///      statement then makes the double answer false, so tests can check what the game asks.
contract ToggleVerifier is IProofVerifier {
    enum Mode {
        Accept,
        Reject,
        Revert,
        BurnAllGas,
        NotEnoughGas
    }

    /// @notice What `verifyPartitionProof` does next.
    Mode public mode;
    /// @notice If non-zero, keccak256(abi.encode(statement)) that a call must carry to be accepted.
    bytes32 public expectedStatementHash;

    /// @notice What `isWellFormed` answers (true unless a test sets it false).
    bool public wellFormedAnswer = true;

    /// @notice Raised in Revert mode.
    error ToggleVerifierReverted();
    /// @notice Raised in NotEnoughGas mode, like the real verifier before a precompile it cannot pay.
    error NotEnoughGas(uint256 needed, uint256 available);

    /// @notice Sets the answer of later calls.
    function setMode(Mode newMode) external {
        mode = newMode;
    }

    /// @notice Pins the statement hash (zero to accept any statement).
    function expectStatement(bytes32 statementHash) external {
        expectedStatementHash = statementHash;
    }

    /// @notice Sets what `isWellFormed` answers.
    function setWellFormed(bool answer) external {
        wellFormedAnswer = answer;
    }

    /// @inheritdoc IProofVerifier
    function isWellFormed(bytes32, bytes32, bytes calldata) external view returns (bool) {
        return wellFormedAnswer;
    }

    /// @inheritdoc IProofVerifier
    function verifyPartitionProof(PartitionStatement calldata statement, bytes calldata) external view returns (bool) {
        if (mode == Mode.Revert) revert ToggleVerifierReverted();
        if (mode == Mode.NotEnoughGas) revert NotEnoughGas(1 << 40, gasleft());
        if (mode == Mode.BurnAllGas) {
            while (true) {}
        }
        if (mode == Mode.Reject) return false;
        bytes32 expected = expectedStatementHash;
        return expected == bytes32(0) || keccak256(abi.encode(statement)) == expected;
    }
}
