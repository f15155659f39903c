#!/usr/bin/env bash
# A national run's overhead (issue 14): the demo pair of SIZE x SIZE as one unit and as 16
# units (tables only), run one after the other on this machine; the merge's share of the
# total; a resume after a kill half way; the same 16 units with pictures; the calibration
# figure `reclaim plan` estimates with (input pixels x planes per second,
# host/cli/national_command.cpp); and the plan's estimates against the units' times on the
# national demo (composited, warped epochs).
#
#   SIZE=4096 REPS=3 bench/peers/national_units.sh
#
# The merged sites.csv of every layout is compared byte for byte with the one-unit run's before
# any time is reported. Writes bench/results/national-<machine>.md (RESULTS_FILE overrides).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=bench/peers/lib.sh
source "$here/lib.sh"
SIZE=${SIZE:-4096}
REPS=${REPS:-3}
WORK_DIR=${WORK_DIR:-/tmp/reclaim-bench}/national-$SIZE
reclaim=${RECLAIM_BIN:-$repo/build/reclaim}
machine_facts
out=${RESULTS_FILE:-$repo/bench/results/national-$tag.md}
mkdir -p "$WORK_DIR"
cd "$WORK_DIR"
[[ -f data/2025.tif ]] || "$reclaim" synth --out data --width "$SIZE" --height "$SIZE" >/dev/null
# The tables-only run the floors are about (a national run's usual output); the pictures' cost
# (drawn at the merge from the units' crop pieces) is measured apart below.
printf 'before = "data/2019.tif"\nafter = "data/2025.tif"\nsites = "data/sites.gpkg"\nsensor = "sentinel2-l2a"\n' >job-pictures.toml
{ cat job-pictures.toml; echo 'no-pictures = true'; } >job.toml

secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}'; }

layout() {  # NAME UNIT_SIZE -> run and merge medians in r_run, r_merge; units in r_units
  local runs="" merges="" k
  for ((k = 0; k < REPS; k++)); do
    rm -rf "run-$1"
    "$reclaim" plan job.toml --out "run-$1" --unit-size "$2" --quiet >/dev/null
    runs+=" $(secs "$reclaim" run "run-$1" --quiet)"
    merges+=" $(secs "$reclaim" merge "run-$1" --quiet)"
    [[ $1 == one ]] || cmp "run-$1/sites.csv" run-one/sites.csv || { echo "sites.csv of $1 differs" >&2; exit 1; }
  done
  r_run=$(median <<<"$runs")
  r_merge=$(median <<<"$merges")
  r_units=$(python3 -c "import json; print(len(json.load(open('run-$1/plan.json'))['units']))")
}

layout one "$SIZE"
one_run=$r_run one_merge=$r_merge one_units=$r_units
layout sixteen $((SIZE / 4))
six_run=$r_run six_merge=$r_merge six_units=$r_units
read_bytes=$(python3 -c "import json; print(json.load(open('run-one/plan.json'))['totals']['read_bytes'])")
rate=$(awk -v b="$read_bytes" -v s="$one_run" 'BEGIN {printf "%.0f", b / 2 / s}')

# Resume: kill -9 when about half the units are done, then run again.
rm -rf run-resume
"$reclaim" plan job.toml --out run-resume --unit-size $((SIZE / 4)) --quiet >/dev/null
"$reclaim" run run-resume --quiet & pid=$!
sleep "$(awk -v s="$six_run" 'BEGIN {print s / 2}')"
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
done_before=$(find run-resume/units -name done.json | wc -l)
resume=$(secs "$reclaim" run run-resume --quiet)
"$reclaim" merge run-resume --quiet >/dev/null
cmp run-resume/sites.csv run-one/sites.csv

share=$(awk -v m="$six_merge" -v r="$six_run" 'BEGIN {printf "%.1f", 100 * m / (m + r)}')

# With pictures (the default): 16 units capture their crop pieces, the merge draws every picture.
rm -rf run-pictures
"$reclaim" plan job-pictures.toml --out run-pictures --unit-size $((SIZE / 4)) --quiet >/dev/null
pic_run=$(secs "$reclaim" run run-pictures --quiet)
pic_merge=$(secs "$reclaim" merge run-pictures --quiet)
pic_sites=$(find run-pictures/pictures -name 'site-*_change.png' | wc -l)
pic_bytes=$(find run-pictures/units -name crops.rzc -printf '%s\n' | awk '{s += $1} END {printf "%.1f", s / 1e6}')
# The plan's estimate against the time the units took, on the national demo (composited
# epochs of 4 scenes, every scene warped from its UTM zone onto the Albers grid).
rm -rf national-demo run-national
"$reclaim" synth --national --out national-demo >/dev/null
"$reclaim" plan national-demo/national.toml --out run-national --quiet >/dev/null
national_run=$(secs "$reclaim" run run-national --quiet)
estimates=$(python3 - run-national <<'PY'
import json, sys
run = sys.argv[1]
plan = json.load(open(f"{run}/plan.json"))
total_e = total_a = 0
for u in plan["units"]:
    done = json.load(open(f"{run}/units/{u['id']}/done.json"))
    e, a = u["estimate"]["seconds"], done["seconds"]
    total_e += e
    total_a += a
    print(f"| {u['index']} | {u['window'][2]} x {u['window'][3]} | {u['scenes']} | {e:.2f} | {a:.2f} |")
print(f"| all | | | {total_e:.2f} | {total_a:.2f} |")
PY
)
floors=$(floor_check "16 units / 1 unit, total unit time" "$(ratio "$six_run" "$one_run")" "<=" 1.1
         floor_check "merge share of the 16-unit total (%)" "$share" "<" 2)
# Every layout's sites.csv was compared with cmp above (the script stops on a difference).
agree_check "merged sites.csv of every layout vs the one-unit run" 1 "byte-identical"
total() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a + b}'; }
suite_tool "run + merge" reclaim_1_unit "$(total "$one_run" "$one_merge")" "" ""
suite_tool "run + merge" reclaim_16_units "$(total "$six_run" "$six_merge")" "" ""
suite_write national "merged sites.csv byte-identical to the one-unit run's" \
  "reclaim synth --width $SIZE --height $SIZE; medians of $REPS" "$out" "$floors"
{
  echo "# National run overhead: $SIZE x $SIZE demo, 1 unit vs 16 units"
  echo
  echo "Machine: $cpu_model, $ncpu cores, $mem_gb GiB; CPU backend. $(date -u +%Y-%m-%d)."
  echo "Command: \`SIZE=$SIZE REPS=$REPS bench/peers/national_units.sh\` (medians of $REPS)."
  echo "Every layout's merged sites.csv is byte-identical to the one-unit run's (checked with cmp)."
  echo
  echo "| layout | units | run (s) | merge (s) |"
  echo "| --- | ---: | ---: | ---: |"
  echo "| one unit | $one_units | $one_run | $one_merge |"
  echo "| $((SIZE / 4)) px units | $six_units | $six_run | $six_merge |"
  echo
  echo "$floors"
  echo "- resume after kill -9 at half the 16-unit run time: $done_before units were complete; the rerun took $resume s ($(ratio "$resume" "$six_run") of a full run)"
  echo "- calibration: one unit read $read_bytes bytes (input pixels x planes x 2) in $one_run s: $rate input pixel-planes per second"
  echo "- with pictures (the job without no-pictures), 16 units: run $pic_run s, merge $pic_merge s (draws $pic_sites sites' 5 pictures and the overview from $pic_bytes MB of crop pieces)"
  echo
  echo "## The plan's estimate against the units' time: national demo"
  echo
  echo "\`reclaim synth --national\`, \`reclaim plan national.toml\`, \`reclaim run\` ($national_run s in all, process"
  echo "start included); each unit's estimate (plan.json) against the seconds in its done.json:"
  echo
  echo "| unit | window | scenes met | estimate (s) | took (s) |"
  echo "| ---: | --- | ---: | ---: | ---: |"
  echo "$estimates"
} >"$out"
cat "$out"
