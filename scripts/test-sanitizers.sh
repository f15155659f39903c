#!/usr/bin/env bash
# The AddressSanitizer + UndefinedBehaviorSanitizer build (CMake preset asan, build-asan/, CPU
# targets) and every test against it: the C++ unit tests and the end-to-end tests (which run
# the instrumented reclaim binary); leaks are checked and a UBSan finding is fatal. The test
# preset (CMakePresets.json) sets ASAN_OPTIONS, UBSAN_OPTIONS and the LSan suppressions.
# Extra arguments go to ctest (e.g. -R e2e_assess).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [[ ! -f build-asan/build.ninja ]]; then
  cmake --preset asan >/dev/null
fi
cmake --build build-asan -j "$(nproc)" | { grep -vE '^(\[[0-9]+/[0-9]+\] |ninja: no work to do)' || true; }  # pipefail: the build's status decides
ctest --preset asan -j 2 "$@"
