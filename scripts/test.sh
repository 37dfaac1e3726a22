#!/usr/bin/env bash
# Builds tcpsim and runs the whole test suite with ctest (unit tests, every
# scenario, the bad-scenario checks, layering and format checks).
#   scripts/test.sh          Release build in build/
#   scripts/test.sh --asan   AddressSanitizer + UBSan build in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."
preset=release
[ "${1:-}" = "--asan" ] && preset=asan
jobs=$(nproc 2>/dev/null || echo 2)
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$jobs"
ctest --preset "$preset" -j "$jobs"
