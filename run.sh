#!/usr/bin/env bash
# The single entry point: ./run.sh <command> [args]. See ./run.sh --help.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
export PATH="$ROOT/node_modules/.bin:$PATH"

usage() {
    cat <<'USAGE'
usage: ./run.sh <command> [args...]

commands:
  setup              install everything into the repository (.venv, node_modules); idempotent
  demo [args...]     set up, then run the end-to-end demo: opzk demo [args...]
  test [args...]     set up, run the static checks (ruff, mypy --strict), the Solidity tests
                     (forge test), then pytest [args...]; fails if any fails or pytest
                     collects no test
  lint               set up, then run the static checks alone
  bench NAME [args]  set up, then run the benchmark bench/NAME.py (python -m bench.NAME [args])
  -h, --help         show this help

environment:
  OPZK_SKIP_FORGE=1  ./run.sh test skips forge test
  OPZK_SKIP_LINT=1   ./run.sh test skips the static checks
  PYTHON=python3.11  the interpreter that creates .venv (default: python3)
  OPZK_SOLC, OPZK_ANVIL, OPZK_BUILD_DIR  override the solc / anvil executables and build dir

examples:
  ./run.sh test                   forge tests + the default pytest run (-m 'not slow')
  ./run.sh test -m slow           forge tests + the slow tests
  ./run.sh test tests/unit -x     forge tests + a part of the suite
USAGE
}

# Progress of setup goes to stderr, so a command's stdout stays its own.
setup() { bash "$ROOT/scripts/setup.sh" >&2; }

# Static checks: ruff (lint and format) over the tree, mypy --strict over the packages
# (pyproject.toml [tool.mypy] files).
lint() {
    echo "== ruff check, ruff format --check, mypy"
    "$ROOT/.venv/bin/ruff" check . && "$ROOT/.venv/bin/ruff" format --check . \
        && "$ROOT/.venv/bin/mypy"
}

command="${1:-}"
[[ $# -gt 0 ]] && shift

case "$command" in
    -h | --help | help)
        usage
        ;;
    setup)
        bash "$ROOT/scripts/setup.sh"
        ;;
    demo)
        setup
        exec "$ROOT/.venv/bin/opzk" demo "$@"
        ;;
    lint)
        setup
        lint
        ;;
    test)
        setup
        lint_rc=0
        if [[ "${OPZK_SKIP_LINT:-0}" != "1" ]]; then
            lint || lint_rc=$?
        fi
        forge_rc=0
        if [[ "${OPZK_SKIP_FORGE:-0}" != "1" ]]; then
            echo "== forge test"
            forge test || forge_rc=$?
        fi
        echo "== pytest $*"
        pytest_rc=0
        "$ROOT/.venv/bin/python" -m pytest "$@" || pytest_rc=$?
        if [[ $pytest_rc -eq 5 ]]; then
            echo "run.sh: pytest collected no tests; that counts as a failure" >&2
        fi
        if [[ $lint_rc -ne 0 || $forge_rc -ne 0 || $pytest_rc -ne 0 ]]; then
            echo "run.sh: FAILED (static checks exit $lint_rc, forge test exit $forge_rc," \
                "pytest exit $pytest_rc)" >&2
            exit 1
        fi
        ;;
    bench)
        name="${1:-}"
        if [[ -z "$name" ]]; then
            echo "run.sh: bench needs a NAME (a module in bench/)" >&2
            usage >&2
            exit 2
        fi
        shift
        if [[ ! "$name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
            echo "run.sh: bad benchmark name '$name' (expected a module name in bench/)" >&2
            exit 2
        fi
        if [[ ! -f "$ROOT/bench/$name.py" && ! -f "$ROOT/bench/$name/__main__.py" ]]; then
            available="$(find "$ROOT/bench" -maxdepth 1 -name '[!_]*.py' -printf '%f ' 2>/dev/null \
                | sed 's/\.py//g')"
            echo "run.sh: no benchmark '$name' (available: ${available:-none})" >&2
            exit 2
        fi
        setup
        exec "$ROOT/.venv/bin/python" -m "bench.$name" "$@"
        ;;
    "")
        usage >&2
        exit 2
        ;;
    *)
        echo "run.sh: unknown command '$command'" >&2
        usage >&2
        exit 2
        ;;
esac
