#!/usr/bin/env bash
# Builds tcpsim and runs the whole test suite with ctest (unit tests, every
# scenario, the bad-scenario checks, layering and format checks).
#   scripts/test.sh          Release build in build/
#   scripts/test.sh --asan   AddressSanitizer + UBSan build in build-asan/ (all
#                            but the package tests, which the release pass runs)
#   scripts/test.sh --valgrind  Release build; the hostile corpus and every
#                            scenario of the library under Valgrind's memcheck
#                            (tests/hostile/valgrind.sh, two at a time; slow:
#                            not part of CI)
#   scripts/test.sh --kernel Release build; the kernel tests (ctest -L kernel),
#                            then every scenario of the library against this
#                            machine's Linux (docs/kernel.md; needs root and
#                            /dev/net/tun, else reported as skipped)
set -euo pipefail
cd "$(dirname "$0")/.."
preset=release
[ "${1:-}" = "--asan" ] && preset=asan
jobs=$(nproc 2>/dev/null || echo 2)
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$jobs"
if [ "${1:-}" = "--valgrind" ]; then
  rc=0; bash tests/hostile/valgrind.sh build/tcpsim --jobs 2 || rc=$?
  [ $rc -eq 77 ] && { echo "valgrind: skipped (not installed)"; exit 0; }
  exit $rc
fi
if [ "${1:-}" = "--kernel" ]; then
  ctest --preset "$preset" -j "$jobs" -L kernel
  rc=0; bash tests/kern/suite.sh build/tcpsim . build/kernel-suite --all --jobs 6 || rc=$?
  [ $rc -eq 77 ] && { echo "kernel suite: skipped (see the reason above)"; exit 0; }
  exit $rc
fi
# The Debian package is a release artefact: its tests (cpack, dpkg) run in the
# release pass; under the sanitizers they would only repeat them slower.
exclude=()
[ "$preset" = asan ] && exclude=(-LE package)
ctest --preset "$preset" -j "$jobs" "${exclude[@]}"
