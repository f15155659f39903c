#!/usr/bin/env bash
# The GPU check: build the GDAL-free targets, run the CPU/GPU parity tests, run them under
# compute-sanitizer memcheck, time the kernels, and print each kernel's bandwidth as a
# fraction of the measured device-to-device copy (the last thing printed).
#
# Made for a machine with a GPU, CUDA, CMake and ninja but no GDAL, GoogleTest or Google
# Benchmark. Without a GPU it still builds and reports every skipped step; exit status 0.
# Exit status 1: configure/build failed, a gpu test failed, memcheck found errors, or the
# benchmark's CPU/GPU parity check failed.
#
#   scripts/stage-gpu-sources.sh      # here, once: copies GoogleTest into .devsrc/
#   scripts/gpu-check.sh              # there (carry .devsrc)
#
# Environment:
#   OUT                       where logs go (default ./gpu-check-out)
#   RECLAIM_GPU_BUILD_DIR     build folder (default build-gpu)
#   RECLAIM_GTEST_SOURCE_DIR  GoogleTest source tree; default .devsrc/googletest when libgtest
#                             is not installed. Setting it forces the source build.
#   JOBS                      parallel build jobs (default: nproc)
#   RECLAIM_BENCH_ARGS        extra arguments for bench_gpu_kernels (e.g. "--size 4096 --reps 10")
#   MEMCHECK_TIMEOUT          seconds for the memcheck run (default 300); SKIP_MEMCHECK=1 skips it
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
out=${OUT:-$repo/gpu-check-out}
build=${RECLAIM_GPU_BUILD_DIR:-$repo/build-gpu}
jobs=${JOBS:-$(nproc)}
mkdir -p "$out"
summary="$out/summary.txt"
: >"$summary"
status=0

say() { printf 'gpu-check: %s\n' "$*" | tee -a "$summary"; }
fail_tail() {  # the end of a log, on failure
  echo "---- last lines of $1 ----"
  tail -n "${2:-40}" "$1" || true
  echo "----"
}

# ---- machine ------------------------------------------------------------------------------
if ! command -v nvcc >/dev/null 2>&1 && [[ -x /usr/local/cuda/bin/nvcc ]]; then
  export PATH="/usr/local/cuda/bin:$PATH"
fi
have_device=0
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >"$out/nvidia-smi.txt" 2>&1 && grep -q '^GPU ' "$out/nvidia-smi.txt"; then
  have_device=1
  say "device: $(head -1 "$out/nvidia-smi.txt")"
  nvidia-smi --query-gpu=driver_version,clocks.sm,clocks.mem --format=csv,noheader >>"$out/nvidia-smi.txt" 2>&1 || true
else
  say "device: none visible (nvidia-smi absent or lists no GPU): device steps will be skipped"
fi
rm -f "$out/nvidia-smi.txt"
say "cmake: $(cmake --version | head -1 | awk '{print $3}'); nvcc: $(nvcc --version 2>/dev/null | sed -n 's/.*release \([0-9.]*\).*/\1/p' || true)"

cuda_flag=AUTO
if ! command -v nvcc >/dev/null 2>&1; then
  say "SKIP CUDA targets: no nvcc on PATH or in /usr/local/cuda/bin"
  cuda_flag=OFF
fi
generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi

# ---- GoogleTest -----------------------------------------------------------------------------
tests_flag=ON
gtest_args=()
system_gtest=0
for d in /usr/lib/*/cmake/GTest /usr/lib/cmake/GTest /usr/lib64/cmake/GTest /usr/local/lib/cmake/GTest \
         /usr/local/lib64/cmake/GTest; do
  [[ -f "$d/GTestConfig.cmake" ]] && system_gtest=1
done
gtest_src=${RECLAIM_GTEST_SOURCE_DIR:-}
if [[ -z "$gtest_src" && $system_gtest -eq 0 && -f "$repo/.devsrc/googletest/CMakeLists.txt" ]]; then
  gtest_src="$repo/.devsrc/googletest"
fi
if [[ ! -f tests/CMakeLists.txt ]]; then
  tests_flag=OFF
  say "SKIP tests: tests/CMakeLists.txt does not exist yet"
elif [[ -n "$gtest_src" ]]; then
  [[ -f "$gtest_src/CMakeLists.txt" ]] || { say "FAIL: RECLAIM_GTEST_SOURCE_DIR=$gtest_src has no CMakeLists.txt"; exit 1; }
  gtest_src=$(cd "$gtest_src" && pwd)
  gtest_args=(-DRECLAIM_GTEST_SOURCE_DIR="$gtest_src")
  say "GoogleTest: building from source $gtest_src"
elif [[ $system_gtest -eq 1 ]]; then
  say "GoogleTest: installed (system package)"
else
  tests_flag=OFF
  say "SKIP tests: no GoogleTest (not installed, no .devsrc/googletest: run scripts/stage-gpu-sources.sh and carry .devsrc)"
fi

# ---- configure + build (GDAL-free) ----------------------------------------------------------
log="$out/build.log"
say "configure + build in $build (-DRECLAIM_GDAL=OFF, tests $tests_flag, $jobs jobs)"
if ! cmake -S "$repo" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DRECLAIM_GDAL=OFF \
    -DRECLAIM_CUDA="$cuda_flag" -DRECLAIM_TESTS="$tests_flag" -DRECLAIM_BENCH=ON "${gtest_args[@]}" >"$log" 2>&1; then
  say "FAIL: configure (log: $log)"
  fail_tail "$log"
  exit 1
fi
grep -E '^-- reclaim:|CMake Warning' "$log" | sed 's/^/  /' || true
if ! cmake --build "$build" -j "$jobs" >>"$log" 2>&1; then
  say "FAIL: build (log: $log)"
  fail_tail "$log"
  exit 1
fi
say "build: ok"

# ---- parity tests (ctest -L gpu) ------------------------------------------------------------
kernels_test=""
if [[ $tests_flag == ON ]]; then
  kernels_test=$(find "$build" -type f -name kernels_test -perm -u+x 2>/dev/null | head -1)
  log="$out/ctest-gpu.log"
  rc=0
  ctest --test-dir "$build" -L gpu -V --output-on-failure >"$log" 2>&1 || rc=$?
  # ctest's own per-test lines ("Test #12: Suite.Case ... Passed" / "***Skipped" / "***Failed").
  passed=$(grep -cE 'Test +#[0-9]+: .* Passed' "$log" || true)
  skipped=$(grep -cE 'Test +#[0-9]+: .*\*\*\*Skipped' "$log" || true)
  if grep -q 'No tests were found' "$log"; then
    say "WARN ctest -L gpu: no tests carry the label gpu (log: $log)"
  elif [[ $rc -ne 0 ]]; then
    status=1
    say "FAIL ctest -L gpu: rc=$rc, $passed passed, $skipped skipped (log: $log)"
    grep -E '\[  FAILED  \]|Failure|Expected|Which is' "$log" | head -20 || true
  elif [[ $skipped -gt 0 ]]; then
    say "ctest -L gpu: no failures; $passed passed, $skipped SKIPPED (they need a usable device) (log: $log)"
  else
    say "ctest -L gpu: passed ($passed passed, $skipped skipped) (log: $log)"
  fi
else
  say "SKIP ctest -L gpu: tests not built"
fi

# ---- compute-sanitizer memcheck -------------------------------------------------------------
sanitizer=$(command -v compute-sanitizer || true)
[[ -z "$sanitizer" && -x /usr/local/cuda/bin/compute-sanitizer ]] && sanitizer=/usr/local/cuda/bin/compute-sanitizer
if [[ ${SKIP_MEMCHECK:-0} == 1 ]]; then
  say "SKIP memcheck: SKIP_MEMCHECK=1"
elif [[ -z "$kernels_test" ]]; then
  say "SKIP memcheck: no kernels_test binary"
elif [[ $have_device -eq 0 ]]; then
  say "SKIP memcheck: no device"
elif [[ -z "$sanitizer" ]]; then
  say "SKIP memcheck: compute-sanitizer not found"
else
  log="$out/memcheck.log"
  rc=0
  timeout "${MEMCHECK_TIMEOUT:-300}" "$sanitizer" --tool memcheck --error-exitcode 17 --print-limit 50 \
    "$kernels_test" >"$log" 2>&1 || rc=$?
  summary_line=$(grep -m1 'ERROR SUMMARY' "$log" || true)
  if [[ $rc -eq 0 ]]; then
    say "memcheck kernels_test: clean (${summary_line:-no summary line}) (log: $log)"
  elif grep -qiE 'device not supported|not supported on this platform|unable to (initialize|launch)' "$log"; then
    say "SKIP memcheck: compute-sanitizer refused this machine: $(grep -m1 -iE 'not supported|unable to' "$log") (log: $log)"
  elif [[ $rc -eq 124 ]]; then
    say "WARN memcheck: timed out after ${MEMCHECK_TIMEOUT:-300} s (log: $log)"
  else
    status=1
    say "FAIL memcheck kernels_test: rc=$rc ${summary_line} (log: $log)"
    grep -m10 -E '^========= (Invalid|Program hit|Address)' "$log" || true
  fi
fi

# ---- kernel benchmarks ----------------------------------------------------------------------
bench="$build/bench/bench_gpu_kernels"
tsv="$out/bench-gpu.tsv"
rm -f "$tsv"
bench_note=""
if [[ ! -x "$bench" ]]; then
  bench_note="bench_gpu_kernels was not built (no CUDA)"
  say "SKIP benchmarks: $bench_note"
else
  log="$out/bench-gpu.log"
  rc=0
  # shellcheck disable=SC2086  # RECLAIM_BENCH_ARGS is a list of words on purpose
  "$bench" --tsv "$tsv" ${RECLAIM_BENCH_ARGS:-} >"$log" 2>&1 || rc=$?
  if grep -q '^SKIP' "$log"; then
    bench_note=$(grep -m1 '^SKIP' "$log")
    say "$bench_note"
  elif [[ $rc -ne 0 ]]; then
    status=1
    say "FAIL bench_gpu_kernels: rc=$rc (log: $log)"
    fail_tail "$log" 20
  else
    say "bench_gpu_kernels: ok; $(grep -m1 '^parity' "$log") (log: $log)"
  fi
fi

# ---- the table, last ------------------------------------------------------------------------
echo
if [[ -s "$tsv" ]]; then
  awk -F'\t' '
    NR == 1 { next }
    $1 == "copy" { d2d = $6; printf "device-to-device copy: %.1f GB/s (read + write), %.3f ms\n", $6, $5; next }
    $1 == "kernel" { k[++n] = $0 }
    $1 == "e2e" { e[++m] = $0 }
    END {
      printf "%-10s %10s %10s %8s\n", "kernel", "ms", "GB/s", "of d2d"
      for (i = 1; i <= n; ++i) { split(k[i], f, "\t"); printf "%-10s %10.3f %10.1f %8.2f\n", f[2], f[5], f[6], f[7] }
      for (i = 1; i <= m; ++i) { split(e[i], f, "\t"); printf "%-10s %10.1f %10.1f %8s  (pinned H2D + kernel + D2H via run_pipeline)\n", "e2e/" f[2], f[5], f[6], "-" }
    }' "$tsv" | tee -a "$summary"
else
  echo "no GPU timings: ${bench_note:-benchmark did not produce $tsv}" | tee -a "$summary"
fi
exit $status
