#!/usr/bin/env bash
# Install what opzk needs, inside the repository: a Python virtual environment (.venv) with the
# package and its dev tools, and the npm toolchain (node_modules: Anvil, Forge, solc, OpenZeppelin).
#
# Needs only python3 (3.11+), node (20+) and npm. Idempotent: each half records a hash of its
# inputs (pyproject.toml, package-lock.json) in a stamp file and is skipped while that matches, so a
# re-run does no work. Set PYTHON to choose the interpreter that creates the venv.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-python3}"
# torch goes in first, pinned to the CPU build: left to resolve `torch>=2.13` on its own, pip would
# fetch a multi-GB CUDA build. pyproject.toml allows >=2.13.0,<2.15, so this pin satisfies it.
TORCH_SPEC="torch==2.13.0"
VENV=".venv"
PY_STAMP="$VENV/.opzk-setup.stamp"
NPM_STAMP="node_modules/.opzk-setup.stamp"

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }
file_hash() { sha256sum "$1" | cut -d' ' -f1; }
stamp_matches() { [[ -f "$1" && "$(cat "$1")" == "$2" ]]; }
# pip, quiet but with its errors shown; drops only the noise of local index folders that lack a
# package ("Location 'file:///…' is ignored"), which some machines' pip.conf produces for every package.
pip_install() {
    "$VENV/bin/python" -m pip install -q "$@" \
        2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
}

# --- Python ----------------------------------------------------------------------------------------

if ! "$VENV/bin/python" -c '' >/dev/null 2>&1; then
    command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found (need Python 3.11 or newer)"
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || die "$PYTHON is $("$PYTHON" -V 2>&1); opzk needs Python 3.11 or newer (set PYTHON=...)"
    [[ -e "$VENV" ]] && { say "removing a broken $VENV"; rm -rf "$VENV"; }
    say "creating $VENV with $("$PYTHON" -V 2>&1)"
    "$PYTHON" -m venv "$VENV" || die "cannot create a venv (on Debian/Ubuntu: apt-get install python3-venv)"
fi

py_key="$(file_hash pyproject.toml) $TORCH_SPEC"
if stamp_matches "$PY_STAMP" "$py_key"; then
    say "python packages up to date"
else
    rm -f "$PY_STAMP"
    say "installing $TORCH_SPEC (CPU)"
    pip_install "$TORCH_SPEC"
    say "installing opzk (editable) with its dev tools"
    pip_install -e '.[dev]'
    printf '%s\n' "$py_key" > "$PY_STAMP"
fi

# --- npm toolchain ---------------------------------------------------------------------------------

[[ -f package-lock.json ]] || die "package-lock.json is missing"
npm_key="$(file_hash package-lock.json)"
if stamp_matches "$NPM_STAMP" "$npm_key" && [[ -x node_modules/.bin/anvil && -x node_modules/.bin/forge ]]; then
    say "npm toolchain up to date"
else
    command -v node >/dev/null 2>&1 || die "node not found (need Node.js 20 or newer)"
    command -v npm >/dev/null 2>&1 || die "npm not found"
    node -e 'process.exit(Number(process.versions.node.split(".")[0]) < 20 ? 1 : 0)' \
        || die "node is $(node --version); the toolchain needs Node.js 20 or newer"
    say "installing the npm toolchain (anvil, forge, solc, openzeppelin)"
    # --ignore-scripts: nothing needs building, and c-kzg's native build must not run.
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
    [[ -x node_modules/.bin/anvil && -x node_modules/.bin/forge ]] \
        || die "npm ci finished but node_modules/.bin/{anvil,forge} are missing"
    printf '%s\n' "$npm_key" > "$NPM_STAMP"
fi

say "done"
