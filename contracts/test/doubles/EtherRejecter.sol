// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title EtherRejecter
/// @notice TEST DOUBLE ONLY: an account that forwards calls and refuses incoming ETH while `reject`
///         is set (to drive the TransferFailed paths of pull payments).
contract EtherRejecter {
    bool public reject = true;

    function setReject(bool r) external {
        reject = r;
    }

    function exec(address target, uint256 value, bytes calldata data) external payable returns (bytes memory) {
        (bool ok, bytes memory ret) = target.call{value: value}(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
        return ret;
    }

    receive() external payable {
        require(!reject, "EtherRejecter: no ETH");
    }
}
