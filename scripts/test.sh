#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (CTest: GoogleTest suites, the
# CLI/GDAL end-to-end tests, and the GPU parity tests, which skip without a GPU).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
ctest --test-dir "${RECLAIM_BUILD_DIR:-build}" --output-on-failure -j 2
