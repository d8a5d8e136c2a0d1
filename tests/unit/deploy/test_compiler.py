"""
The Solidity compiler driver: sources, imports, the cache, errors, and the OPZK_SOLC override.

These compile small throwaway contracts in temporary directories (one of them imports OpenZeppelin's
MerkleProof), so they do not depend on the marketplace contracts.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from eth_typing import HexStr

from deploy import compiler, paths
from deploy.compiler import CompilationError, CompiledContract, abis_hash, compile_contracts

MERKLE_USER = """\
// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
// import "./NotThere.sol";
/* import "./NorThis.sol"; */
import "./Helper.sol";

/// A throwaway contract for the compiler tests.
contract MerkleUser {
    string public constant NOTE = "// not a comment; import \\"./Nope.sol\\";";

    function check(bytes32[] calldata proof, bytes32 root, bytes32 leaf)
        external
        pure
        returns (bool)
    {
        return MerkleProof.verifyCalldata(proof, root, leaf);
    }

    function twice(uint256 x) external pure returns (uint256) {
        return Helper.double(x);
    }
}
"""

HELPER = """\
// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

library Helper {
    function double(uint256 x) internal pure returns (uint256) {
        return 2 * x;
    }
}
"""

OZ_MERKLE = "node_modules/@openzeppelin/contracts/utils/cryptography/MerkleProof.sol"
OZ_HASHES = "node_modules/@openzeppelin/contracts/utils/cryptography/Hashes.sol"


def write_sources(directory: Path, **files: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (directory / f"{name}.sol").write_text(content)
    return directory


@pytest.fixture(scope="module")
def merkle_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sources(tmp_path_factory.mktemp("src"), MerkleUser=MERKLE_USER, Helper=HELPER)


@pytest.fixture(scope="module")
def merkle_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("build")


@pytest.fixture(scope="module")
def merkle_compiled(merkle_dir: Path, merkle_build: Path) -> dict[str, CompiledContract]:
    return compile_contracts(source_dirs=[merkle_dir], build_dir=merkle_build)


class CompilerCalls:
    """Counts the real compiler runs (cache misses)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = compiler._run_compiler

        def counting(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(compiler, "_run_compiler", counting)


# --- imports -----------------------------------------------------------------------------------


def test_imports_every_form_and_ignores_comments_and_strings() -> None:
    source = """
        import "./A.sol";
        import './B.sol' as B;
        import * as C from "../C.sol";
        import {D, E as F} from "@openzeppelin/contracts/D.sol";
        import {
            G
        } from "lib/G.sol";
        // import "./commented.sol";
        /* import "./block.sol";
           import "./block2.sol"; */
        string constant S = "import \\"./in_string.sol\\"; //";
        contract X {}
    """
    assert compiler._imports(source) == [
        "./A.sol",
        "./B.sol",
        "../C.sol",
        "@openzeppelin/contracts/D.sol",
        "lib/G.sol",
    ]


def test_resolve_import_relative_and_remapped() -> None:
    resolve = compiler._resolve_import
    assert (
        resolve("contracts/src/disputes/Game.sol", "../lib/Lib.sol") == "contracts/src/lib/Lib.sol"
    )
    assert resolve("contracts/src/A.sol", "./B.sol") == "contracts/src/B.sol"
    assert resolve("/tmp/x/A.sol", "./B.sol") == "/tmp/x/B.sol"
    assert resolve("contracts/src/A.sol", "@openzeppelin/contracts/utils/Strings.sol") == (
        "node_modules/@openzeppelin/contracts/utils/Strings.sol"
    )
    assert resolve("contracts/src/A.sol", "contracts/src/B.sol") == "contracts/src/B.sol"
    with pytest.raises(CompilationError, match="leaves the repository root"):
        resolve("A.sol", "../../B.sol")


def test_collect_sources_follows_imports_into_openzeppelin(merkle_dir: Path) -> None:
    sources = compiler.collect_sources([merkle_dir])
    own = (merkle_dir / "MerkleUser.sol").resolve().as_posix()
    helper = (merkle_dir / "Helper.sol").resolve().as_posix()
    # MerkleProof imports ./Hashes.sol: followed relative to its remapped unit name.
    assert set(sources) == {own, helper, OZ_MERKLE, OZ_HASHES}
    assert sources[OZ_MERKLE] == (paths.repo_root() / OZ_MERKLE).read_text()
    assert list(sources) == sorted(sources)


def test_collect_sources_reports_a_missing_import(tmp_path: Path) -> None:
    write_sources(tmp_path, Broken='pragma solidity ^0.8.24;\nimport "./Missing.sol";\n')
    with pytest.raises(CompilationError, match=r"Missing\.sol.*imported by .*Broken\.sol"):
        compiler.collect_sources([tmp_path])


# --- compiling ------------------------------------------------------------------------------------


def test_compiles_a_contract_that_imports_openzeppelin(
    merkle_compiled: dict[str, CompiledContract], merkle_dir: Path, merkle_build: Path
) -> None:
    # Only the contracts of the given directories are listed, not the imported library code.
    assert set(merkle_compiled) == {"MerkleUser", "Helper"}
    user = merkle_compiled["MerkleUser"]
    assert user.name == "MerkleUser"
    assert user.source_path == (merkle_dir / "MerkleUser.sol").resolve().as_posix()
    assert user.bytecode.startswith("0x") and len(user.bytecode) > 100
    assert user.deployed_bytecode.startswith("0x") and len(user.deployed_bytecode) > 100
    assert user.is_deployable
    assert {entry["name"] for entry in user.abi if entry["type"] == "function"} == {
        "check",
        "twice",
        "NOTE",
    }
    assert set(user.method_identifiers) == {
        "check(bytes32[],bytes32,bytes32)",
        "twice(uint256)",
        "NOTE()",
    }
    assert all(len(value) == 8 for value in user.method_identifiers.values())
    # ABIs are written for the bindings.
    written = json.loads((merkle_build / "abi" / "MerkleUser.json").read_text())
    assert written == list(user.abi)


def test_second_compile_is_a_cache_hit(
    merkle_compiled: dict[str, CompiledContract],
    merkle_dir: Path,
    merkle_build: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = CompilerCalls(monkeypatch)
    again = compile_contracts(source_dirs=[merkle_dir], build_dir=merkle_build)
    assert calls.count == 0
    assert again == merkle_compiled
    cached = list((merkle_build / "contracts").glob("*.json"))
    assert len([file for file in cached if file.name != "solc-versions.json"]) == 1


def test_changed_source_misses_the_cache(
    tmp_path: Path, merkle_build: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write_sources(tmp_path / "src", Helper=HELPER + "\n// changed\n")
    calls = CompilerCalls(monkeypatch)
    compile_contracts(source_dirs=[source], build_dir=merkle_build)
    compile_contracts(source_dirs=[source], build_dir=merkle_build)
    assert calls.count == 1


def test_syntax_error_raises_with_the_compiler_message(tmp_path: Path) -> None:
    write_sources(tmp_path, Bad="pragma solidity ^0.8.24;\ncontract Bad { function f( }\n")
    with pytest.raises(CompilationError) as raised:
        compile_contracts(source_dirs=[tmp_path], build_dir=tmp_path / "build")
    error = raised.value
    assert "ParserError" in str(error)
    assert "Bad.sol" in str(error)
    assert error.errors and all("ParserError" in message for message in error.errors)
    assert not list((tmp_path / "build" / "contracts").glob("[0-9a-f]*.json"))  # nothing cached


def test_type_error_lists_every_error(tmp_path: Path) -> None:
    write_sources(
        tmp_path,
        Bad=(
            "pragma solidity ^0.8.24;\n"
            "contract Bad {\n"
            "  function f() external pure returns (uint256) { return missing1; }\n"
            "  function g() external pure returns (uint256) { return missing2; }\n"
            "}\n"
        ),
    )
    with pytest.raises(CompilationError) as raised:
        compile_contracts(source_dirs=[tmp_path], build_dir=tmp_path / "build")
    assert len(raised.value.errors) == 2
    assert "missing1" in str(raised.value) and "missing2" in str(raised.value)


def test_warnings_do_not_fail(tmp_path: Path) -> None:
    write_sources(
        tmp_path,
        Warns=(
            "pragma solidity ^0.8.24;\n"
            "contract Warns {\n"
            "  function f(uint256 unused) external pure returns (uint256) { return 1; }\n"
            "}\n"
        ),
    )
    compiled = compile_contracts(source_dirs=[tmp_path], build_dir=tmp_path / "build")
    assert compiled["Warns"].is_deployable


def test_no_sources_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CompilationError, match="no Solidity sources"):
        compile_contracts(source_dirs=[tmp_path], build_dir=tmp_path / "build")


def test_two_contracts_with_one_name_are_refused(tmp_path: Path) -> None:
    contract = "pragma solidity ^0.8.24;\ncontract Same {}\n"
    write_sources(tmp_path / "a", Same=contract)
    write_sources(tmp_path / "b", Same=contract)
    with pytest.raises(CompilationError, match="two contracts are named 'Same'"):
        compile_contracts(
            source_dirs=[tmp_path / "a"], extra_dirs=[tmp_path / "b"], build_dir=tmp_path / "build"
        )


def test_opzk_solc_override_is_honored(
    tmp_path: Path, merkle_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "calls.log"
    fake = tmp_path / "bin" / "my-solc"
    fake.parent.mkdir()
    wrapper = paths.repo_root() / "tools" / "solc" / "solc"
    fake.write_text(f'#!/bin/sh\necho "$@" >> "{log}"\nexec "{wrapper}" "$@"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("OPZK_SOLC", str(fake))
    assert paths.solc_binary() == fake

    compiled = compile_contracts(source_dirs=[merkle_dir], build_dir=tmp_path / "build")

    calls = log.read_text().splitlines()
    assert any("--version" in call for call in calls)
    assert any("--standard-json" in call for call in calls)
    assert compiled["MerkleUser"].is_deployable


def test_opzk_solc_that_does_not_exist_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPZK_SOLC", "/nonexistent/solc")
    with pytest.raises(paths.ToolNotFoundError, match="OPZK_SOLC"):
        paths.solc_binary()
    with pytest.raises(CompilationError, match="OPZK_SOLC='/nonexistent/solc': no such file"):
        compile_contracts()


def test_a_compiler_that_fails_is_a_clear_error(tmp_path: Path, merkle_dir: Path) -> None:
    broken = tmp_path / "solc"
    broken.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = --version ]; then echo "Version: 0.8.30+commit.deadbeef"; exit 0; fi\n'
        "echo 'boom: internal compiler failure' >&2\n"
        "exit 3\n"
    )
    broken.chmod(0o755)
    with pytest.raises(CompilationError, match=r"(?s)failed.*boom: internal compiler failure"):
        compile_contracts(source_dirs=[merkle_dir], solc_binary=broken, build_dir=tmp_path / "b")


def test_a_compiler_without_a_version_is_a_clear_error(tmp_path: Path, merkle_dir: Path) -> None:
    broken = tmp_path / "solc"
    broken.write_text("#!/bin/sh\nexit 3\n")
    broken.chmod(0o755)
    with pytest.raises(CompilationError, match="cannot run the compiler"):
        compile_contracts(source_dirs=[merkle_dir], solc_binary=broken, build_dir=tmp_path / "b")


# --- ABI hash -------------------------------------------------------------------------------------


def contract(name: str, abi: list[dict[str, Any]]) -> CompiledContract:
    return CompiledContract(name, f"{name}.sol", tuple(abi), HexStr("0x"), HexStr("0x"))


def test_abis_hash_is_canonical_and_order_independent() -> None:
    a = contract("A", [{"type": "function", "name": "f", "inputs": [], "outputs": []}])
    b = contract("B", [{"type": "event", "name": "E", "inputs": [], "anonymous": False}])
    expected_text = json.dumps(
        {"A": list(a.abi), "B": list(b.abi)}, sort_keys=True, separators=(",", ":")
    )
    expected = hashlib.sha256(expected_text.encode()).hexdigest()
    assert abis_hash({"A": a, "B": b}) == expected
    assert abis_hash({"B": b, "A": a}) == expected
    changed = contract("B", [{"type": "event", "name": "E2", "inputs": [], "anonymous": False}])
    assert abis_hash({"A": a, "B": changed}) != expected


def test_build_dir_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OPZK_BUILD_DIR", str(tmp_path / "elsewhere"))
    assert paths.build_dir() == tmp_path / "elsewhere"
    monkeypatch.delenv("OPZK_BUILD_DIR")
    assert paths.build_dir() == paths.repo_root() / "build"
    assert os.path.isabs(paths.build_dir())
