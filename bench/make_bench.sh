#!/usr/bin/env bash
# `make bench`: install what the benchmark needs into its own folders, then run it.
#   mitmproxy (+ py-spy) → .deps/mitm-venv (pip, PyPI)
#   wrk                  → Debian package, if missing
# Then bench/run.py prints the table and writes bench/results/*.json, and bench/pg_fleet.py
# measures four proxies recording into one PostgreSQL (BENCH_FLEET_EACH requests each).
# BENCH_QUICK=1 gives a ~2-minute run; see bench/run.py for the other knobs.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
MITM_VENV=.deps/mitm-venv

if [ ! -x .venv/bin/hubscope ]; then
    echo "bench: .venv/bin/hubscope missing; run 'make install' first" >&2
    exit 2
fi

if [ ! -x "$MITM_VENV/bin/mitmdump" ]; then
    echo "bench: installing mitmproxy into $MITM_VENV"
    mkdir -p .deps
    "$PYTHON" -m venv "$MITM_VENV"
    "$MITM_VENV/bin/pip" install -q --disable-pip-version-check -r bench/requirements-mitm.txt
fi

if ! command -v wrk >/dev/null 2>&1; then
    echo "bench: installing wrk (Debian)"
    if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk >/dev/null
fi

.venv/bin/python bench/run.py "$@"
# Staging scale (issue 21): four proxies × 16 connections into one PostgreSQL.
.venv/bin/python bench/pg_fleet.py --each "${BENCH_FLEET_EACH:-5000}" \
    --json "bench/results/pg-fleet-$(date -u +%Y%m%d-%H%M%S).json"
