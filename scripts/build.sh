#!/usr/bin/env bash
# Configures and builds reclaim into build/ (Release). CUDA targets are built when nvcc is
# found (on PATH or in /usr/local/cuda/bin), whether or not a GPU is present.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v nvcc >/dev/null && [[ -x /usr/local/cuda/bin/nvcc ]]; then
  export PATH="/usr/local/cuda/bin:$PATH"
fi
build_dir=${RECLAIM_BUILD_DIR:-build}
if [[ ! -f "$build_dir/build.ninja" ]]; then
  mkdir -p "$build_dir"
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >"$build_dir/configure.log" 2>&1 ||
    { cat "$build_dir/configure.log" >&2; exit 1; }
fi
cmake --build "$build_dir" -j "$(nproc)" | { grep -vE '^(\[[0-9]+/[0-9]+\] |ninja: no work to do)' || true; }  # pipefail: the build's status decides
