#!/usr/bin/env bash
# The benchmarks' Python with pysequoia (Benchmarks/openpgp/requirements.txt), in a venv under .local/ made on
# first use; prints the interpreter's path. Run from the repository's top.
set -euo pipefail
venv=.local/openpgp-venv
if [ ! -x "$venv/bin/python" ]; then
    mkdir -p .local
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install -q -r Benchmarks/openpgp/requirements.txt >&2
fi
echo "$venv/bin/python"
