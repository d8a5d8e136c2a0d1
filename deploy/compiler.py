"""
Compiling the Solidity contracts through py-solc-x.

Introduction
------------
:func:`compile_contracts` gathers every ``*.sol`` file under ``contracts/src``
(plus any extra directories the caller names, such as test doubles), follows
their imports to build a closed set of sources, and hands the compiler one
standard-JSON input in which *every* source is given by content. Nothing is
read by the compiler itself, so the input fully describes the build: its
hash (with the compiler version) names a cache file under
``build/contracts/``, and a second compile of unchanged sources is a file read.

Source unit names are paths relative to the repository root
(``contracts/src/InferenceMarket.sol``), as Forge names them; a source outside
the repository is named by its absolute path. Imports follow solc's rules:
``./`` and ``../`` are relative to the importing unit, anything else goes
through the remappings (``@openzeppelin/contracts/`` →
``node_modules/@openzeppelin/contracts/``) and is then taken from the
repository root.

The compiler is ``tools/solc/solc`` (the npm wasm compiler behind a
``solc``-compatible command line) unless ``OPZK_SOLC`` names another; see
:mod:`deploy.paths`. Settings match ``foundry.toml``: optimizer on, 200 runs,
EVM version ``prague``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import posixpath
import re
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import solcx
from eth_typing import HexStr
from solcx.exceptions import SolcError

from deploy import paths

logger = logging.getLogger(__name__)

REMAPPINGS: Final[tuple[tuple[str, str], ...]] = (
    ("@openzeppelin/contracts/", "node_modules/@openzeppelin/contracts/"),
)
"""Import prefix → source unit name prefix, as in ``foundry.toml``."""

EVM_VERSION: Final = "prague"
OPTIMIZER_RUNS: Final = 200
OUTPUT_SELECTION: Final[tuple[str, ...]] = (
    "abi",
    "evm.bytecode.object",
    "evm.deployedBytecode.object",
    "evm.methodIdentifiers",
)

# Comments and string literals, in one pass, so that an "import" inside either is not followed and a
# "//" inside a string is not taken for a comment.
_COMMENT_OR_STRING: Final = re.compile(
    r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'',
    re.DOTALL,
)
# Every import form: `import "p";`, `import "p" as X;`, `import * as X from "p";`,
# `import {A, B as C} from "p";`.
_IMPORT: Final = re.compile(
    r'\bimport\s+(?:[^;"\']*?\bfrom\s+)?(?P<quote>["\'])(?P<path>[^"\']+)(?P=quote)[^;]*;',
    re.DOTALL,
)


class CompilationError(Exception):
    """
    The contracts did not compile.

    ``errors`` holds the compiler's messages of severity ``error`` (formatted,
    with source locations), or a single message when the compiler could not
    be run at all. Warnings never raise.
    """

    def __init__(self, summary: str, errors: Sequence[str] = ()) -> None:
        self.summary: Final = summary
        self.errors: Final = tuple(errors)
        details = "\n".join(message.rstrip() for message in self.errors)
        super().__init__(f"{summary}\n{details}" if details else summary)


@dataclass(frozen=True)
class CompiledContract:
    """
    One contract (or library, or interface) from a compile.

    ``bytecode`` and ``deployed_bytecode`` are ``0x``-prefixed hex; an
    interface or abstract contract has ``"0x"``. ``source_path`` is the source
    unit name (``contracts/src/ModelRegistry.sol``). ``method_identifiers``
    maps each function signature to its 4-byte selector in hex (no ``0x``).
    """

    name: str
    source_path: str
    abi: tuple[dict[str, Any], ...]
    bytecode: HexStr
    deployed_bytecode: HexStr
    method_identifiers: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_deployable(self) -> bool:
        """True when there is creation code (not an interface or abstract contract)."""
        return len(self.bytecode) > 2


# --------------------------------------------------------------------------------------------------
# Sources


def _unit_name(path: Path) -> str:
    """Name a source file as solc will: relative to the repository root, else absolute."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(paths.repo_root()).as_posix()
    except ValueError:
        return resolved.as_posix()


def _unit_file(unit: str) -> Path:
    """Return the file that holds a source unit (the inverse of :func:`_unit_name`)."""
    return Path(unit) if unit.startswith("/") else paths.repo_root() / unit


def _imports(source: str) -> list[str]:
    """Return the import paths of a Solidity source, in order, ignoring comments."""

    def blank_comment(match: re.Match[str]) -> str:
        text = match.group(0)
        return " " if text.startswith("/") else text

    code = _COMMENT_OR_STRING.sub(blank_comment, source)
    return [match.group("path") for match in _IMPORT.finditer(code)]


def _resolve_import(importer: str, import_path: str) -> str:
    """Return the source unit name that ``import_path`` in unit ``importer`` refers to."""
    if import_path.startswith(("./", "../")):
        base = posixpath.dirname(importer)
        joined = posixpath.normpath(posixpath.join(base, import_path))
        if joined.startswith("../") or joined == "..":
            raise CompilationError(f"{importer}: import {import_path!r} leaves the repository root")
        return joined
    best = ""
    target = ""
    for prefix, replacement in REMAPPINGS:
        if import_path.startswith(prefix) and len(prefix) > len(best):
            best, target = prefix, replacement
    return target + import_path[len(best) :] if best else import_path


def collect_sources(source_dirs: Iterable[Path]) -> dict[str, str]:
    """
    Return every ``*.sol`` under ``source_dirs`` and everything they import.

    Parameters
    ----------
    source_dirs
        Directories searched recursively for ``*.sol`` files. A missing
        directory is skipped.

    Returns
    -------
    sources
        Source unit name → file content, sorted by name.

    Raises
    ------
    CompilationError
        When an import cannot be found.
    """
    pending: list[str] = []
    for directory in source_dirs:
        if directory.is_dir():
            pending.extend(_unit_name(file) for file in sorted(directory.rglob("*.sol")))
    sources: dict[str, str] = {}
    importers: dict[str, str] = {}
    while pending:
        unit = pending.pop()
        if unit in sources:
            continue
        file = _unit_file(unit)
        try:
            content = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            where = f"imported by {importers[unit]}" if unit in importers else "listed"
            hint = (
                " (run `./run.sh setup` to install the npm packages)"
                if unit.startswith("node_modules/")
                else ""
            )
            raise CompilationError(f"source {unit!r} {where} not found at {file}{hint}") from None
        sources[unit] = content
        for import_path in _imports(content):
            imported = _resolve_import(unit, import_path)
            importers.setdefault(imported, unit)
            if imported not in sources:
                pending.append(imported)
    return dict(sorted(sources.items()))


def standard_json_input(sources: Mapping[str, str]) -> dict[str, Any]:
    """Return the solc standard-JSON input that compiles ``sources`` with the project settings."""
    return {
        "language": "Solidity",
        "sources": {unit: {"content": content} for unit, content in sources.items()},
        "settings": {
            "remappings": [f"{prefix}={target}" for prefix, target in REMAPPINGS],
            "optimizer": {"enabled": True, "runs": OPTIMIZER_RUNS},
            "evmVersion": EVM_VERSION,
            "outputSelection": {"*": {"*": list(OUTPUT_SELECTION)}},
        },
    }


# --------------------------------------------------------------------------------------------------
# The compiler


_VERSION_LINE: Final = re.compile(r"Version:\s*(\S+)")
_versions: dict[tuple[str, ...], str] = {}


def _version_key(binary: Path) -> tuple[str, ...]:
    """Identify a compiler build cheaply: its file, and the npm solc package it may load."""
    key = [str(binary.resolve())]
    for file in (binary.resolve(), paths.node_modules_dir() / "solc" / "package.json"):
        try:
            stat = file.stat()
        except FileNotFoundError:
            key.append("-")
        else:
            key.append(f"{stat.st_mtime_ns}:{stat.st_size}")
    return tuple(key)


def compiler_version(solc_binary: Path | None = None, build_dir: Path | None = None) -> str:
    """
    Return the full version string of a ``solc`` build (``0.8.30+commit.73712a01…``).

    Asking a wasm compiler for its version costs most of a second, so the answer
    is remembered per build, in memory and in ``build/contracts/solc-versions.json``.
    """
    binary = solc_binary or paths.solc_binary()
    key = _version_key(binary)
    if key in _versions:
        return _versions[key]
    memo_file = (build_dir or paths.build_dir()) / "contracts" / "solc-versions.json"
    memo_key = "|".join(key)
    memo: dict[str, str] = {}
    try:
        loaded = json.loads(memo_file.read_text())
        if isinstance(loaded, dict):
            memo = {str(k): str(v) for k, v in loaded.items()}
    except (OSError, ValueError):
        pass
    version = memo.get(memo_key)
    if version is None:
        try:
            out = subprocess.run(
                [str(binary), "--version"], capture_output=True, text=True, timeout=120, check=True
            ).stdout
        except (OSError, subprocess.SubprocessError) as error:
            raise CompilationError(
                f"cannot run the compiler {binary} (set {paths.SOLC_ENV}, or run `./run.sh setup`)",
                [str(error)],
            ) from error
        match = _VERSION_LINE.search(out)
        if match is None:
            raise CompilationError(f"{binary} --version printed no version", [out])
        version = match.group(1)
        memo[memo_key] = version
        _write_atomically(memo_file, json.dumps(memo, indent=2, sort_keys=True))
    _versions[key] = version
    return version


def _write_atomically(path: Path, text: str) -> None:
    """Write a file so that a reader never sees half of it (concurrent compiles are safe)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _run_compiler(input_json: dict[str, Any], binary: Path, extra_roots: Sequence[Path]) -> Any:
    """Run ``solc --standard-json`` through py-solc-x; raise CompilationError on any error."""
    root = paths.repo_root()
    allow = [root, *extra_roots]
    try:
        return solcx.compile_standard(
            input_json, solc_binary=binary, base_path=root, allow_paths=allow
        )
    except SolcError as error:
        if error.error_dict:
            messages = [
                str(entry.get("formattedMessage") or entry.get("message"))
                for entry in error.error_dict
                if entry.get("severity") == "error"
            ]
            raise CompilationError("Solidity compilation failed:", messages) from error
        details = (error.stderr_data or error.stdout_data or error.message or "").strip()
        raise CompilationError(f"the compiler {binary} failed", [details]) from error
    except OSError as error:
        raise CompilationError(
            f"cannot run the compiler {binary} (set {paths.SOLC_ENV}, or run `./run.sh setup`)",
            [str(error)],
        ) from error
    except ValueError as error:  # the output was not JSON
        raise CompilationError(f"the compiler {binary} printed no JSON", [str(error)]) from error


# --------------------------------------------------------------------------------------------------
# Results


def _hex(value: object) -> HexStr:
    text = str(value or "")
    return HexStr(text if text.startswith("0x") else "0x" + text)


def _contracts_from_output(
    output: Mapping[str, Any], wanted_units: set[str]
) -> dict[str, CompiledContract]:
    """Pick the contracts of ``wanted_units`` out of a standard-JSON output, keyed by name."""
    contracts: dict[str, CompiledContract] = {}
    for unit, by_name in sorted(output.get("contracts", {}).items()):
        if unit not in wanted_units:
            continue
        for name, compiled in sorted(by_name.items()):
            if name in contracts:
                raise CompilationError(
                    f"two contracts are named {name!r}: in {contracts[name].source_path} and "
                    f"in {unit}; rename one (deployments are keyed by contract name)"
                )
            evm = compiled.get("evm", {})
            contracts[name] = CompiledContract(
                name=name,
                source_path=unit,
                abi=tuple(compiled.get("abi", ())),
                bytecode=_hex(evm.get("bytecode", {}).get("object")),
                deployed_bytecode=_hex(evm.get("deployedBytecode", {}).get("object")),
                method_identifiers=dict(evm.get("methodIdentifiers", {})),
            )
    return contracts


def _write_abis(contracts: Mapping[str, CompiledContract], build: Path) -> None:
    """Write ``build/abi/<Name>.json`` for each contract, skipping files already up to date."""
    abi_dir = build / "abi"
    abi_dir.mkdir(parents=True, exist_ok=True)
    for name, contract in contracts.items():
        text = json.dumps(list(contract.abi), indent=2) + "\n"
        target = abi_dir / f"{name}.json"
        try:
            if target.read_text(encoding="utf-8") == text:
                continue
        except FileNotFoundError:
            pass
        _write_atomically(target, text)


def compile_contracts(
    extra_dirs: Sequence[Path] = (),
    *,
    source_dirs: Sequence[Path] | None = None,
    solc_binary: Path | None = None,
    build_dir: Path | None = None,
    use_cache: bool = True,
) -> dict[str, CompiledContract]:
    """
    Compile the project's contracts.

    Parameters
    ----------
    extra_dirs
        More directories of ``*.sol`` to compile alongside, e.g. test doubles
        (:func:`deploy.paths.contracts_test_doubles_dir`).
    source_dirs
        The main source directories; default ``[contracts/src]``.
    solc_binary
        The compiler; default :func:`deploy.paths.solc_binary` (``OPZK_SOLC``).
    build_dir
        Where the cache and the ABIs go; default :func:`deploy.paths.build_dir`.
    use_cache
        Read a cached output when the input and compiler are unchanged.

    Returns
    -------
    contracts
        Contract name → :class:`CompiledContract`, for the contracts defined in
        ``source_dirs`` and ``extra_dirs`` (imported library code such as
        OpenZeppelin is compiled in, but not listed).

    Raises
    ------
    CompilationError
        With the compiler's error messages, when anything fails to compile.
    """
    try:
        binary = solc_binary or paths.solc_binary()
    except paths.ToolNotFoundError as error:
        raise CompilationError(f"no compiler: {error}") from error
    build = build_dir or paths.build_dir()
    roots = [
        *(source_dirs if source_dirs is not None else [paths.contracts_src_dir()]),
        *extra_dirs,
    ]
    sources = collect_sources(roots)
    own_units = {
        _unit_name(file) for root in roots if root.is_dir() for file in root.rglob("*.sol")
    }
    if not own_units:
        raise CompilationError(
            "no Solidity sources found in " + ", ".join(str(root) for root in roots)
        )

    input_json = standard_json_input(sources)
    version = compiler_version(binary, build)
    key = hashlib.sha256(f"{_canonical_json(input_json)}\n{version}".encode()).hexdigest()
    cache_file = build / "contracts" / f"{key}.json"

    output: Any = None
    if use_cache:
        try:
            output = json.loads(cache_file.read_text(encoding="utf-8"))
            logger.debug("compile cache hit: %s", cache_file)
        except (OSError, ValueError):
            output = None
    if output is None:
        logger.info("compiling %d sources with solc %s", len(sources), version)
        extra_roots = [root.resolve() for root in roots]
        output = _run_compiler(input_json, binary, extra_roots)
        _write_atomically(cache_file, json.dumps(output))

    for entry in output.get("errors", ()):
        if (
            entry.get("severity") != "error"
            and entry.get("sourceLocation", {}).get("file", "") in own_units
        ):
            logger.warning("solc: %s", str(entry.get("formattedMessage", "")).strip())

    contracts = _contracts_from_output(output, own_units)
    _write_abis(contracts, build)
    return contracts


def abis_hash(contracts: Mapping[str, CompiledContract]) -> str:
    """
    Return the sha256 (hex) of the contracts' ABIs.

    The hashed text is the canonical JSON (sorted keys, no spaces) of the
    object ``{name: abi}``, names in sorted order. A deployments file records
    it, so a reader can tell whether its bindings match what was deployed.
    """
    by_name = {name: list(contracts[name].abi) for name in sorted(contracts)}
    return hashlib.sha256(_canonical_json(by_name).encode()).hexdigest()
