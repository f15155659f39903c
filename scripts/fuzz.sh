#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (CMake preset fuzz: clang, ASan + UBSan), writes
# the binary seeds, replays every seed (CTest label fuzz: crashes found before stay fixed),
# then fuzzes each target for FUZZ_SECONDS (default 20). New inputs go to
# build-fuzz/fuzz-work/<target>/, a crash to build-fuzz/fuzz-artifacts/<target>/ (the script
# then fails). Long run, e.g. an hour per target on 4 cores:
#   FUZZ_SECONDS=3600 FUZZ_JOBS=4 scripts/fuzz.sh [rules grades job band_map zonal_partial geotiff]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${FUZZ_SECONDS:-20}
jobs=${FUZZ_JOBS:-1}
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(rules grades job band_map zonal_partial geotiff)
build=build-fuzz

command -v clang++-14 >/dev/null && [[ -n $(compgen -G "/usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a") ]] ||
  scripts/setup.sh clang-14 libclang-rt-14-dev
if [[ ! -f $build/build.ninja ]]; then
  cmake --preset fuzz >/dev/null
fi
cmake --build $build -j "$(nproc)" --target "${targets[@]/%/_fuzz}" | { grep -vE '^\[[0-9]+/[0-9]+\] ' || true; }  # pipefail: the build's status decides
# The zonal partial seed is written by reclaim itself (the normal build; scripts/build.sh).
[[ -x ${RECLAIM_BIN:-build/reclaim} ]] || scripts/build.sh
/usr/bin/python3 scripts/fuzz-seeds.py $build/tests/fuzz/seeds "${RECLAIM_BIN:-build/reclaim}"
ctest --test-dir $build -L fuzz --output-on-failure -R "fuzz_($(IFS='|'; echo "${targets[*]}"))_corpus"

for t in "${targets[@]}"; do
  work=$root/$build/fuzz-work/$t artifacts=$root/$build/fuzz-artifacts/$t
  mkdir -p "$work" "$artifacts"
  corpus=() parallel=()
  [[ $jobs -gt 1 ]] && parallel=(-jobs="$jobs" -workers="$jobs")
  [[ -d tests/fuzz/corpus/$t ]] && corpus+=("$root/tests/fuzz/corpus/$t")
  echo "fuzz: $t for ${seconds}s" >&2
  # Absolute paths: band_map_fuzz works in a folder of its own. -timeout: an input that takes
  # 25 s is a hang; -rss_limit_mb: a parser that allocates without bound is a crash too.
  # (Run in build-fuzz: with FUZZ_JOBS, libFuzzer writes fuzz-N.log files into the working folder.)
  if ! (cd "$root/$build" && "tests/fuzz/${t}_fuzz" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 \
      "${parallel[@]}" -print_final_stats=1 -artifact_prefix="$artifacts/" \
      "$work" "${corpus[@]}" "$root/$build/tests/fuzz/seeds/$t" >"$root/$build/fuzz-$t.log" 2>&1); then
    tail -n 60 "$root/$build/fuzz-$t.log" >&2
    echo "fuzz: $t found a crash (in $artifacts/); fix it and add the input to tests/fuzz/corpus/$t/" >&2
    exit 1
  fi
  grep -E '^(stat::number_of_executed_units|stat::new_units_added)' "$root/$build/fuzz-$t.log" | sed "s/^/fuzz: $t /" >&2 || true
done
