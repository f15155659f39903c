#!/usr/bin/env bash
# The GPU check, in one call: builds the GDAL-free targets, runs the host-side tests of that
# build, every GPU test (ctest -L gpu: kernel, trend, change, zonal, composite and pipeline
# parity, CPU vs GPU bit for bit), compute-sanitizer memcheck over a small case of every GPU test binary and
# racecheck over the zonal (shared-memory atomics + block reduction) and trend kernels, then
# times the kernels. The last thing printed is a table of kernel bandwidth against the measured
# device-to-device copy.
#
# Made for the lent GPU machine (CUDA 13, CMake and ninja from PyPI, no GDAL, no GoogleTest,
# no Google Benchmark). How to call it:
#
#   here, once (no device):  scripts/stage-gpu-sources.sh
#                            # copies GoogleTest's sources into .devsrc/googletest (git-ignored)
#   on the device (the `run` tool):
#       command:    scripts/gpu-check.sh
#       carry:      [".devsrc"]
#       timeout_s:  540      (the script keeps itself under GPU_CHECK_BUDGET_S = 450 s of work
#                             after the build, and the build takes ~2-3 min on 16 cores)
#   Logs come back in $OUT (at most 8 files): summary.txt, build.log, ctest-host.log,
#   ctest-gpu.log, sanitizer.log, bench-gpu.log, bench-gpu.tsv.
#
# The same script dry-runs here without a device: it configures and builds the same GDAL-free
# tree (GDAL, Google Benchmark and the io_floor peer are switched off even where installed; a
# staged GoogleTest is preferred to an installed one), runs the host tests, checks that every
# sanitizer filter names at least one test, and lists every step it could not run.
#
# Exit status: 0 when every step that could run passed, and then the last line says which
# steps did not run and why (no device: every GPU step; compute-sanitizer refusing the device:
# the sanitizer steps). 1 on any failure: configure/build, the tests not built while a device
# is visible (GoogleTest not staged), a host or GPU test failing, a GPU test skipping although a
# device is visible, a sanitizer report, a test failing under a sanitizer (reported apart from
# sanitizer errors), a sanitizer run that timed out, or the benchmark's parity check.
#
# Environment:
#   OUT                       where logs go (default ./gpu-check-out)
#   RECLAIM_GPU_BUILD_DIR     build folder (default build-gpu)
#   RECLAIM_GTEST_SOURCE_DIR  GoogleTest source tree (default .devsrc/googletest when staged)
#   JOBS                      parallel build/test jobs (default: nproc)
#   GPU_CHECK_BUDGET_S        seconds for everything after the build (default 450); a step that
#                             would start past it is skipped and reported as INCOMPLETE (exit 1)
#   SANITIZER_TIMEOUT         seconds per sanitizer run (default 120); SKIP_SANITIZERS=1 skips them
#   RECLAIM_BENCH_ARGS        extra arguments for bench_gpu_kernels (e.g. "--size 4096 --reps 10")
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
out=${OUT:-$repo/gpu-check-out}
build=${RECLAIM_GPU_BUILD_DIR:-$repo/build-gpu}
jobs=${JOBS:-$(nproc)}
budget=${GPU_CHECK_BUDGET_S:-450}
san_timeout=${SANITIZER_TIMEOUT:-120}
mkdir -p "$out"
summary="$out/summary.txt"
: >"$summary"
status=0
not_run=()     # steps that did not run, with why
failures=()    # one word per failed step

say() { printf 'gpu-check: %s\n' "$*" | tee -a "$summary"; }
fail() { status=1; failures+=("$1"); shift; say "FAIL $*"; }
skip() { not_run+=("$1"); shift; say "SKIP $*"; }
fail_tail() {  # the end of a log, on failure
  echo "---- last lines of $1 ----"
  tail -n "${2:-40}" "$1" || true
  echo "----"
}
finish() {
  echo
  if [[ ${#failures[@]} -gt 0 ]]; then
    say "RESULT: FAILED (${failures[*]})${not_run:+; not run: ${not_run[*]}}"
  elif [[ ${#not_run[@]} -gt 0 ]]; then
    say "RESULT: passed what ran; NOT RUN: ${not_run[*]}"
  else
    say "RESULT: passed, every step ran"
  fi
  exit $status
}

# ---- machine ------------------------------------------------------------------------------
if ! command -v nvcc >/dev/null 2>&1 && [[ -x /usr/local/cuda/bin/nvcc ]]; then
  export PATH="/usr/local/cuda/bin:$PATH"
fi
have_device=0
smi="$out/nvidia-smi.txt"
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >"$smi" 2>&1 && grep -q '^GPU ' "$smi"; then
  have_device=1
  say "device: $(head -1 "$smi")"
  say "driver, clocks: $(nvidia-smi --query-gpu=driver_version,clocks.sm,clocks.mem --format=csv,noheader 2>&1 | head -1)"
else
  say "device: none visible (nvidia-smi absent or lists no GPU): a DRY RUN, device steps are skipped"
fi
rm -f "$smi"
say "cmake: $(cmake --version | head -1 | awk '{print $3}') ($(command -v cmake)); nvcc: $(nvcc --version 2>/dev/null | sed -n 's/.*release \([0-9.]*\).*/\1/p' || true)"

cuda_flag=AUTO
if ! command -v nvcc >/dev/null 2>&1; then
  cuda_flag=OFF
  if [[ $have_device -eq 1 ]]; then
    fail cuda "no nvcc on PATH or in /usr/local/cuda/bin, but a device is visible"
  else
    skip cuda-targets "CUDA targets: no nvcc on PATH or in /usr/local/cuda/bin"
  fi
fi
generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi

# ---- GoogleTest: a staged source tree first (the device has no libgtest) ----------------------
tests_flag=ON
gtest_args=()
system_gtest=0
for d in /usr/lib/*/cmake/GTest /usr/lib/cmake/GTest /usr/lib64/cmake/GTest /usr/local/lib/cmake/GTest \
         /usr/local/lib64/cmake/GTest; do
  [[ -f "$d/GTestConfig.cmake" ]] && system_gtest=1
done
gtest_src=${RECLAIM_GTEST_SOURCE_DIR:-}
if [[ -z "$gtest_src" && -f "$repo/.devsrc/googletest/CMakeLists.txt" ]]; then
  gtest_src="$repo/.devsrc/googletest"
fi
if [[ -n "$gtest_src" ]]; then
  if [[ ! -f "$gtest_src/CMakeLists.txt" ]]; then
    fail gtest "RECLAIM_GTEST_SOURCE_DIR=$gtest_src has no CMakeLists.txt"
    finish
  fi
  gtest_src=$(cd "$gtest_src" && pwd)
  gtest_args=(-DRECLAIM_GTEST_SOURCE_DIR="$gtest_src")
  say "GoogleTest: building from source $gtest_src"
elif [[ $system_gtest -eq 1 && $have_device -eq 0 ]]; then
  say "GoogleTest: installed (system package); NOTE the device has none: stage it (scripts/stage-gpu-sources.sh) and carry .devsrc"
elif [[ $system_gtest -eq 1 ]]; then
  say "GoogleTest: installed (system package)"
else
  tests_flag=OFF
  if [[ $have_device -eq 1 ]]; then
    fail tests-not-built "no GoogleTest (not installed, no .devsrc/googletest): the GPU tests cannot be built." \
      "Stage it here with scripts/stage-gpu-sources.sh and carry .devsrc"
  else
    skip tests "tests: no GoogleTest (not installed, no .devsrc/googletest): run scripts/stage-gpu-sources.sh"
  fi
fi

# ---- configure + build (GDAL-free) ----------------------------------------------------------
log="$out/build.log"
say "configure + build in $build (GDAL off, tests $tests_flag, $jobs jobs)"
# Nothing here may find GDAL or Google Benchmark even where they are installed, so that a dry run
# builds what the device builds.
if ! cmake -S "$repo" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DRECLAIM_GDAL=OFF \
    -DCMAKE_DISABLE_FIND_PACKAGE_GDAL=ON -DCMAKE_DISABLE_FIND_PACKAGE_benchmark=ON -DRECLAIM_BENCH_IO_FLOOR=OFF \
    -DRECLAIM_CUDA="$cuda_flag" -DRECLAIM_TESTS="$tests_flag" -DRECLAIM_BENCH=ON "${gtest_args[@]}" >"$log" 2>&1; then
  fail configure "configure (log: $log)"
  fail_tail "$log"
  finish
fi
grep -E '^-- reclaim:' "$log" | sed 's/^/  /' || true
build_start=$SECONDS
if ! cmake --build "$build" -j "$jobs" >>"$log" 2>&1; then
  fail build "build (log: $log)"
  fail_tail "$log"
  finish
fi
say "build: ok in $((SECONDS - build_start)) s"
if [[ $tests_flag == ON ]] && ! grep -q -- '-- reclaim: C++ tests ON' "$log"; then
  if [[ $have_device -eq 1 ]]; then fail tests-not-built "CMake did not enable the C++ tests (log: $log)"
  else skip tests "tests: CMake did not enable them (log: $log)"; fi
  tests_flag=OFF
fi
t0=$SECONDS
left() { echo $((budget - (SECONDS - t0))); }

# ---- host tests of the GDAL-free tree (includes the host side of every GPU parity case) -------
if [[ $tests_flag == ON ]]; then
  log="$out/ctest-host.log"
  rc=0
  ctest --test-dir "$build" -LE gpu -j "$jobs" --output-on-failure --timeout 300 >"$log" 2>&1 || rc=$?
  line=$(grep -E 'tests passed|tests failed' "$log" | tail -1)
  if [[ $rc -ne 0 ]]; then
    fail host-tests "ctest -LE gpu: rc=$rc, ${line:-no summary} (log: $log)"
    grep -E '^\s*[0-9]+ - .*\(Failed|Timeout|Exception\)' "$log" | head -10 || true
  else
    say "ctest -LE gpu (host): ${line:-no summary} (log: $log)"
  fi
fi

# ---- GPU tests (ctest -L gpu) -----------------------------------------------------------------
if [[ $tests_flag == ON ]]; then
  log="$out/ctest-gpu.log"
  rc=0
  # -V: the tests' own output, for the skip reasons. -j 4: CPU references run beside GPU work.
  ctest --test-dir "$build" -L gpu -j 4 -V --output-on-failure --timeout 300 >"$log" 2>&1 || rc=$?
  passed=$(grep -cE 'Test +#[0-9]+: .* Passed' "$log" || true)
  skipped=$(grep -cE 'Test +#[0-9]+: .*\*\*\*Skipped' "$log" || true)
  no_device_skips=$(grep -c 'no CUDA device' "$log" || true)
  if grep -q 'No tests were found' "$log"; then
    fail gpu-tests "ctest -L gpu: no tests carry the label gpu (log: $log)"
  elif [[ $rc -ne 0 ]]; then
    fail gpu-tests "ctest -L gpu: rc=$rc, $passed passed, $skipped skipped (log: $log)"
    grep -E '\[  FAILED  \]|Failure|Expected|Which is' "$log" | head -20 || true
  elif [[ $have_device -eq 1 && $no_device_skips -gt 0 ]]; then
    fail gpu-tests "ctest -L gpu: a device is visible but $no_device_skips test(s) skipped with 'no CUDA device'" \
      "(cuda_device_count() found none: driver/runtime mismatch?) (log: $log)"
  elif [[ $have_device -eq 0 ]]; then
    skip gpu-tests "ctest -L gpu: no device; $passed passed (host-only cases), $skipped skipped (log: $log)"
  else
    say "ctest -L gpu: passed ($passed passed, $skipped skipped by design) (log: $log)"
  fi
else
  skip gpu-tests "ctest -L gpu: tests not built"
fi

# ---- compute-sanitizer --------------------------------------------------------------------------
# binary (relative to the build) | gtest filter: small cases of every GPU test binary.
memcheck_cases=(
  "tests/kernels_test|Cases/CudaParityCases.PipelineBitIdentical/SmallOddRaster:Cases/CudaParityCases.PipelineBitIdentical/OnePixel*:CudaParity.KernelEmptyInput:CudaParity.KernelPoisonedOutputEveryElementWritten:CudaParity.KernelQualityOutsideUint32Range:ZonalParity.*"
  "tests/trend_kernels_test|Sizes/TrendParityCases.DoubleAndFloatProductsBitIdentical/epochs4_pixels1:Sizes/TrendParityCases.DoubleAndFloatProductsBitIdentical/epochs12_pixels3001:TrendParity.*"
  "tests/change_parity_test|ChangeParity.DefaultRulesIdenticalOnCpuAndGpu"
  "tests/composite_parity_test|Cases/CompositeParityCases.EveryPlaneBitIdentical/median_obs1_pixels1:Cases/CompositeParityCases.EveryPlaneBitIdentical/max_ndvi_obs7_pixels3001:CompositeParity.*"
  "tests/pipeline_parity_test|PassKinds/PipelineParity.*"
)
# The kernels with shared memory: zonal (privatised bins with atomics, cub::BlockReduce), trend (year table).
racecheck_cases=(
  "tests/kernels_test|ZonalParity.HandComputedValues:ZonalParity.ItemsLongerThanAChunk:ZonalParity.ValuesSeveralTilesOverlappingZonesWithHistograms:ZonalParity.ClassesSeveralTiles"
  "tests/trend_kernels_test|TrendParity.HandWorkedPixelOnTheDevice:Sizes/TrendParityCases.DoubleAndFloatProductsBitIdentical/epochs4_pixels1"
)
san_exit=86  # compute-sanitizer's exit status when it found errors (the tests exit 0 or 1)
sanitizer=$(command -v compute-sanitizer || true)
[[ -z "$sanitizer" && -x /usr/local/cuda/bin/compute-sanitizer ]] && sanitizer=/usr/local/cuda/bin/compute-sanitizer
san_log="$out/sanitizer.log"
: >"$san_log"
san_refused=0

# One sanitizer run; its own output is appended to sanitizer.log under a header.
run_sanitizer() {  # tool binary filter
  local tool=$1 bin=$2 filter=$3 part rc=0 errors
  part=$(mktemp)
  timeout "$san_timeout" "$sanitizer" --tool "$tool" --error-exitcode "$san_exit" --print-limit 20 \
    "$build/$bin" --gtest_filter="$filter" >"$part" 2>&1 || rc=$?
  { echo "==== $tool $bin --gtest_filter=$filter (rc=$rc)"; cat "$part"; } >>"$san_log"
  errors=$(sed -n 's/^========= ERROR SUMMARY: \([0-9][0-9]*\) error.*/\1/p' "$part" | tail -1)
  local name="$tool $(basename "$bin")"
  if grep -qiE 'device not supported|not supported on this platform|unable to (initialize|launch)|error 999' "$part" &&
     [[ -z "$errors" || $rc -ne 0 ]]; then
    san_refused=1
    skip "$tool" "$name: compute-sanitizer refused this machine: $(grep -m1 -iE 'not supported|unable to|error 999' "$part")"
  elif [[ $rc -eq 124 ]]; then
    fail "$tool-timeout" "$name: timed out after $san_timeout s (INCOMPLETE: raise SANITIZER_TIMEOUT or shrink the filter)"
  elif [[ $rc -eq $san_exit || ${errors:-0} -gt 0 ]]; then
    fail "$tool-errors" "$name: SANITIZER ERRORS: ${errors:-?} (rc=$rc); first reports:"
    grep -m10 -E '^========= (Invalid|Program hit|Address|Race|Error|.*hazard)' "$part" || true
  elif [[ -z "$errors" ]]; then
    fail "$tool-no-summary" "$name: no ERROR SUMMARY line (rc=$rc): the sanitizer did not finish"
    tail -5 "$part"
  elif [[ $rc -ne 0 ]]; then
    fail "$tool-test-failure" "$name: 0 sanitizer errors, but the tests FAILED under $tool (rc=$rc, not a sanitizer report)"
    grep -E '\[  FAILED  \]' "$part" | head -10 || true
  else
    say "$name: clean ($(grep -m1 'ERROR SUMMARY' "$part" | sed 's/^========= //'); $(grep -m1 -E '^\[==========\] [0-9]+ tests? ' "$part" | tail -1 | sed 's/^\[==========\] //'))"
  fi
  rm -f "$part"
}

sanitizer_step() {  # tool case...
  local tool=$1
  shift
  local entry bin filter listed
  for entry in "$@"; do
    bin=${entry%%|*}
    filter=${entry#*|}
    if [[ ! -x "$build/$bin" ]]; then
      if [[ $have_device -eq 1 ]]; then fail "$tool" "$tool $bin: not built"
      else skip "$tool" "$tool $bin: not built"; fi
      continue
    fi
    # The filter must name tests (no device needed to list them).
    listed=$("$build/$bin" --gtest_list_tests --gtest_filter="$filter" 2>/dev/null | grep -c '^  ' || true)
    if [[ $listed -eq 0 ]]; then
      fail "$tool-filter" "$tool $bin: the filter names no test: $filter"
      continue
    fi
    if [[ ${SKIP_SANITIZERS:-0} == 1 ]]; then skip "$tool" "$tool $bin ($listed tests): SKIP_SANITIZERS=1"; continue; fi
    if [[ $have_device -eq 0 ]]; then skip "$tool" "$tool $bin ($listed tests): no device"; continue; fi
    if [[ -z "$sanitizer" ]]; then skip "$tool" "$tool $bin: compute-sanitizer not found"; continue; fi
    if [[ $san_refused -eq 1 ]]; then skip "$tool" "$tool $bin: compute-sanitizer refused this machine"; continue; fi
    if [[ $(left) -lt $san_timeout ]]; then
      fail "$tool-budget" "$tool $bin: INCOMPLETE, $(left) s of the ${budget} s budget left"
      continue
    fi
    run_sanitizer "$tool" "$bin" "$filter"
  done
}

if [[ $tests_flag == ON ]]; then
  sanitizer_step memcheck "${memcheck_cases[@]}"
  sanitizer_step racecheck "${racecheck_cases[@]}"
else
  skip sanitizers "memcheck, racecheck: tests not built"
fi
[[ -s "$san_log" ]] || rm -f "$san_log"

# ---- kernel benchmarks ----------------------------------------------------------------------
bench="$build/bench/bench_gpu_kernels"
tsv="$out/bench-gpu.tsv"
rm -f "$tsv"
bench_note=""
if [[ ! -x "$bench" ]]; then
  bench_note="bench_gpu_kernels was not built (no CUDA)"
  skip benchmarks "benchmarks: $bench_note"
else
  log="$out/bench-gpu.log"
  rc=0
  # shellcheck disable=SC2086  # RECLAIM_BENCH_ARGS is a list of words on purpose
  timeout "$(( $(left) > 60 ? $(left) : 60 ))" "$bench" --tsv "$tsv" ${RECLAIM_BENCH_ARGS:-} >"$log" 2>&1 || rc=$?
  if grep -q '^SKIP' "$log"; then
    bench_note=$(grep -m1 '^SKIP' "$log")
    if [[ $have_device -eq 1 ]]; then fail benchmarks "bench_gpu_kernels skipped although a device is visible: $bench_note"
    else skip benchmarks "benchmarks: $bench_note"; fi
  elif [[ $rc -ne 0 ]]; then
    fail benchmarks "bench_gpu_kernels: rc=$rc (log: $log)"
    fail_tail "$log" 20
  else
    say "bench_gpu_kernels: ok; $(grep -m1 '^parity' "$log") (log: $log)"
  fi
fi

# ---- the table ------------------------------------------------------------------------------
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
say "elapsed: $SECONDS s in all"
finish
