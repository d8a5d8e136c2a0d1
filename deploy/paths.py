"""
Where the toolchain and the build outputs live.

Introduction
------------
Every path is relative to the repository root, which is found from this
file's location (``deploy/`` sits directly under it), so nothing depends on
the current directory. Three environment variables override the defaults;
they are read at call time, so a test or a user can set them late:

``OPZK_SOLC``
    the ``solc`` executable (a native build, or any ``solc``-compatible
    command). Default: ``tools/solc/solc``, the wrapper over the npm wasm
    compiler.
``OPZK_ANVIL``
    the ``anvil`` executable. Default: ``node_modules/.bin/anvil``, then
    ``anvil`` on ``PATH``.
``OPZK_BUILD_DIR``
    where compiled outputs go. Default: ``build/``.

A value with no ``/`` in it (``OPZK_SOLC=solc``) is looked up on ``PATH``; a
relative path is taken from the current directory, as a shell would.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
"""The repository root (the directory holding ``pyproject.toml``)."""

SOLC_ENV = "OPZK_SOLC"
ANVIL_ENV = "OPZK_ANVIL"
BUILD_DIR_ENV = "OPZK_BUILD_DIR"


class ToolNotFoundError(FileNotFoundError):
    """A toolchain executable (solc, anvil) is missing; the message says how to get it."""


def repo_root() -> Path:
    """Return the repository root."""
    return REPO_ROOT


def node_modules_dir() -> Path:
    """Return the npm ``node_modules`` directory (Anvil, Forge, solc, OpenZeppelin)."""
    return REPO_ROOT / "node_modules"


def contracts_src_dir() -> Path:
    """Return ``contracts/src``, the Solidity sources that are compiled and deployed."""
    return REPO_ROOT / "contracts" / "src"


def contracts_test_doubles_dir() -> Path:
    """Return ``contracts/test/doubles``, Solidity test doubles compiled only for tests."""
    return REPO_ROOT / "contracts" / "test" / "doubles"


def _from_env(variable: str) -> Path | None:
    """Return the executable named by an environment variable, or None when it is unset."""
    value = os.environ.get(variable, "").strip()
    if not value:
        return None
    if os.sep not in value:
        found = shutil.which(value)
        if found is None:
            raise ToolNotFoundError(f"{variable}={value!r}: no such command on PATH")
        return Path(found)
    path = Path(value).expanduser().absolute()
    if not path.is_file():
        raise ToolNotFoundError(f"{variable}={value!r}: no such file")
    return path


def solc_binary() -> Path:
    """
    Return the ``solc`` executable to compile with.

    Returns
    -------
    path
        ``$OPZK_SOLC`` when set, else the wrapper ``tools/solc/solc``.
    """
    return _from_env(SOLC_ENV) or REPO_ROOT / "tools" / "solc" / "solc"


def anvil_binary() -> Path:
    """
    Return the ``anvil`` executable.

    Returns
    -------
    path
        ``$OPZK_ANVIL`` when set, else ``node_modules/.bin/anvil``, else ``anvil``
        on ``PATH``.

    Raises
    ------
    ToolNotFoundError
        When none of these exists.
    """
    from_env = _from_env(ANVIL_ENV)
    if from_env is not None:
        return from_env
    bundled = node_modules_dir() / ".bin" / "anvil"
    if bundled.is_file():
        return bundled
    on_path = shutil.which("anvil")
    if on_path is not None:
        return Path(on_path)
    raise ToolNotFoundError(
        f"anvil not found: not at {bundled} nor on PATH; run `./run.sh setup` "
        f"(it installs it from npm) or set {ANVIL_ENV}"
    )


def build_dir() -> Path:
    """Return the build output directory: ``$OPZK_BUILD_DIR`` when set, else ``build/``."""
    value = os.environ.get(BUILD_DIR_ENV, "").strip()
    if value:
        return Path(value).expanduser().absolute()
    return REPO_ROOT / "build"
