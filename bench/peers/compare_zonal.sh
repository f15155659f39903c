#!/usr/bin/env bash
# Zonal statistics end to end on the 10980 x 10980 NDVI of the cached scene, with 300 real-looking
# sites and with 20 000 random ones, side by side:
#
#   reclaim_exact   reclaim zonal --coverage exact  (pixel fraction inside; streams the raster)
#   reclaim_center  reclaim zonal --coverage center (pixel centre inside)
#   exactextract    exactextract's Python package, one exact_extract() call, results to CSV
#                   through its "gdal" writer (bench/peers/zonal_exactextract.py)
#   rasterio_loop   the per-site loop: read each zone's bounding-box window, rasterize that one
#                   polygon into it (centre rule), numpy statistics (bench/peers/zonal_rasterio_loop.py)
#
# Statistics everywhere: count, sum, mean, min, max, stddev (no median: reclaim's is binned, an
# approximation, exactextract's and numpy's are exact, so timing it would not compare like with like).
# Each configuration runs REPS times (REPS_LARGE for 20 000 sites), interleaved, order rotated;
# the table gives the median wall time and the largest peak RSS (bench/peers/measure.py). The
# whole process is timed, results written included. Agreement: reclaim exact vs exactextract,
# reclaim center vs the rasterio loop (bench/peers/zonal_agree.py). Markdown goes to
# bench/results/zonal-e2e-<machine>.md.
#
# Environment:
#   RECLAIM_BIN  the CLI (default build/reclaim)
#   PY           Python with numpy, GDAL, exactextract and rasterio (default .venv/bin/python)
#   WORK_DIR     scene cache and outputs (default /tmp/reclaim-bench)
#   SIZE         scene side for `reclaim synth` (default 10980, a Sentinel-2 tile at 10 m)
#   REPS         runs per tool at 300 sites (default 3); REPS_LARGE at 20 000 (default 2)
#   N_REAL       real sites taken (default 300); N_RANDOM random zones (default 20000)
#   TOOLS        subset (default: reclaim_exact reclaim_center exactextract rasterio_loop)
#   RESULTS_FILE where the markdown goes (default bench/results/zonal-e2e-<machine>.md)
#   BASELINE_BIN another reclaim build (e.g. the previous commit's) run side by side as
#                baseline_exact / baseline_center; its tables must be byte-identical and its time
#                no lower than 0.95 x this build's
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$repo/bench/peers"
# shellcheck source=bench/peers/lib.sh
source "$here/lib.sh"  # median, maxof, ratio, machine_facts, shell_words
py=${PY:-$repo/.venv/bin/python}
reclaim_bin=${RECLAIM_BIN:-$repo/build/reclaim}
work=${WORK_DIR:-/tmp/reclaim-bench}
size=${SIZE:-10980}
reps=${REPS:-3}
reps_large=${REPS_LARGE:-2}
n_real=${N_REAL:-300}
n_random=${N_RANDOM:-20000}
tools=(${TOOLS:-reclaim_exact reclaim_center exactextract rasterio_loop})
# Another reclaim build run side by side (a refactor must be no slower, with identical tables).
baseline_bin=${BASELINE_BIN:-}
if [[ -n $baseline_bin ]]; then
  [[ -x $baseline_bin ]] || { echo "compare_zonal: BASELINE_BIN $baseline_bin is not executable" >&2; exit 1; }
  baseline_bin=$(realpath "$baseline_bin")
  tools+=(baseline_exact baseline_center)
fi
ncpu=$(nproc)

log() { printf 'compare_zonal: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

[[ -x "$reclaim_bin" ]] || die "reclaim not found at $reclaim_bin (set RECLAIM_BIN)"
"$py" -c 'import numpy, exactextract; from osgeo import gdal' 2>/dev/null ||
  die "$py needs numpy, GDAL and exactextract"
have_rio=1
if ! "$py" -c 'import rasterio' 2>/dev/null; then
  # the peer a Python user would write; affine 3.0.1 breaks rasterio 1.4's windows.from_bounds
  "$(dirname "$py")/pip" install -q --disable-pip-version-check "rasterio==1.4.4" "affine<3" >/dev/null 2>&1 || true
fi
"$py" -c 'import rasterio' 2>/dev/null || { have_rio=0; log "rasterio missing in $py: skipping rasterio_loop"; }

scene="$work/synth-$size/2025.tif"
ndvi_dir="$work/ndvi-$size"
ndvi="$ndvi_dir/ndvi.tif"
zdir="$work/zonal-$size"
mkdir -p "$zdir"
if [[ ! -f "$scene" ]]; then
  log "generating a $size x $size scene in $work/synth-$size (once; cached)"
  "$reclaim_bin" synth --out "$work/synth-$size" --width "$size" --height "$size" >&2
fi
if [[ ! -f "$ndvi" ]]; then
  log "making $ndvi (once; cached)"
  "$reclaim_bin" indices --input "$scene" --index ndvi --out "$ndvi_dir" --quiet
fi
# A small scene has fewer real-looking sites than asked for: take them all.
avail=$("$py" -c 'import sys; from osgeo import ogr; ds = ogr.Open(sys.argv[1]); print(ds.GetLayer(0).GetFeatureCount())' \
  "$work/synth-$size/sites.gpkg")
((avail < n_real)) && n_real=$avail
real="$zdir/sites-$n_real.gpkg"
rand="$zdir/random-$n_random.gpkg"
if [[ ! -f "$real" || ! -f "$rand" || "$here/zonal_make_sites.py" -nt "$rand" ]]; then
  log "making the zone layers in $zdir (once; cached)"
  "$py" "$here/zonal_make_sites.py" --raster "$ndvi" --sites "$work/synth-$size/sites.gpkg" \
    --real "$n_real" --random "$n_random" --out-dir "$zdir"
fi

stats=count,sum,mean,min,max,stddev
command_of() {  # tool zones out -> cmd array
  case $1 in
    reclaim_exact)  cmd=("$reclaim_bin" zonal --raster "$ndvi" --zones "$2" --id-field site_id --stats "$stats" --coverage exact --out "$3" --quiet) ;;
    reclaim_center) cmd=("$reclaim_bin" zonal --raster "$ndvi" --zones "$2" --id-field site_id --stats "$stats" --coverage center --out "$3" --quiet) ;;
    exactextract)   cmd=("$py" "$here/zonal_exactextract.py" --raster "$ndvi" --zones "$2" --id-field site_id --out "$3") ;;
    rasterio_loop)  cmd=("$py" "$here/zonal_rasterio_loop.py" --raster "$ndvi" --zones "$2" --id-field site_id --out "$3") ;;
    baseline_*)     command_of "reclaim_${1#baseline_}" "$2" "$3"; cmd[0]=$baseline_bin ;;
  esac
}

log "warming the page cache"
cat "$ndvi" >/dev/null

declare -A walls rss fails
for set in small large; do
  if [[ $set == small ]]; then zones=$real; n=$reps; else zones=$rand; n=$reps_large; fi
  for ((i = 0; i < n; i++)); do
    k=${#tools[@]}
    for ((j = 0; j < k; j++)); do
      t=${tools[$(((i + j) % k))]}
      [[ $t == rasterio_loop && $have_rio == 0 ]] && continue
      out="$zdir/out-$set-$t.csv"
      rm -f "$out"
      command_of "$t" "$zones" "$out"
      line=$("$py" "$here/measure.py" --log "$zdir/log-$set-$t.txt" -- "${cmd[@]}")
      log "$set $t run $((i + 1)): $line"
      rc=$(sed -E 's/.*rc=([0-9]+).*/\1/' <<<"$line")
      if [[ $rc != 0 ]]; then fails[$set.$t]="rc=$rc, see $zdir/log-$set-$t.txt"; continue; fi
      walls[$set.$t]+="$(sed -E 's/.*wall_s=([0-9.]+).*/\1/' <<<"$line") "
      rss[$set.$t]+="$(sed -E 's/.*max_rss_kb=([0-9]+).*/\1/' <<<"$line") "
    done
  done
done

# Agreement before any time is reported. exactextract's coverage fractions are float32
# (relative error ~1e-7 on a zone's sums); the centre rule is exact on both sides.
tol_exact=1e-6
tol_exactly=1e-12
tolerance_text="exact vs exactextract: ids matched, relative diff <= $tol_exact (count, sum, mean, stddev), <= $tol_exactly (min, max); center vs the rasterio loop: counts equal, every statistic <= $tol_exactly relative"

declare -A med
for set in small large; do for t in "${tools[@]}"; do
  med[$set.$t]=$(echo "${walls[$set.$t]:-}" | median)
done; done

table="| zones | tool | runs (s) | median s | peak RSS MB | ratio vs reclaim exact | ratio vs reclaim center |"$'\n'
table+="| ---: | --- | --- | ---: | ---: | ---: | ---: |"$'\n'
for set in small large; do
  [[ $set == small ]] && label=$n_real || label=$n_random
  for t in "${tools[@]}"; do
    if [[ -z ${walls[$set.$t]:-} ]]; then table+="| $label | $t | failed (${fails[$set.$t]:-not run}) | | | | |"$'\n'; continue; fi
    peak=$(( $(echo "${rss[$set.$t]}" | maxof) / 1024 ))
    table+="| $label | $t | ${walls[$set.$t]% } | $(printf '%.2f' "${med[$set.$t]}") | $peak | $(ratio "${med[$set.$t]}" "${med[$set.reclaim_exact]:-}") | $(ratio "${med[$set.$t]}" "${med[$set.reclaim_center]:-}") |"$'\n'
  done
done

agreement=""
for set in small large; do
  [[ $set == small ]] && label=$n_real || label=$n_random
  pair_agree() {  # NAME RECLAIM_CSV PEER_CSV ZONAL_AGREE_OPTIONS...
    local line
    [[ -f $2 && -f $3 ]] || return 0
    line=$("$py" "$here/zonal_agree.py" --reclaim "$2" --peer "$3" "${@:4}")
    agreement+="- $label zones, $1: $line"$'\n'
    agree_check "$label zones, $1" "$([[ $line == *verdict=agreed ]] && echo 1 || echo 0)" "${line% verdict=*}"
  }
  pair_agree "reclaim exact vs exactextract" "$zdir/out-$set-reclaim_exact.csv" "$zdir/out-$set-exactextract.csv" \
    --tol-rel "$tol_exact" --tol-extreme "$tol_exactly"
  pair_agree "reclaim center vs rasterio loop" "$zdir/out-$set-reclaim_center.csv" "$zdir/out-$set-rasterio_loop.csv" \
    --tol-rel "$tol_exactly" --tol-extreme "$tol_exactly" --same-counts
  for mode in exact center; do
    a="$zdir/out-$set-reclaim_$mode.csv" b="$zdir/out-$set-baseline_$mode.csv"
    [[ -f $a && -f $b ]] || continue
    if cmp -s "$a" "$b"; then agreement+="- $label zones, reclaim $mode vs the baseline build: tables byte-identical"$'\n'
    else agreement+="- $label zones, reclaim $mode vs the baseline build: TABLES DIFFER ($a, $b)"$'\n'; fi
    agree_check "$label zones, reclaim $mode vs the baseline build" "$(cmp -s "$a" "$b" && echo 1 || echo 0)" "byte comparison"
  done
done
verdict=$(agreement_verdict)
for set in small large; do
  [[ $set == small ]] && label="$n_real sites" || label="$n_random sites"
  for t in "${tools[@]}"; do suite_tool "$label" "$t" "${walls[$set.$t]:-}" "${rss[$set.$t]:-}" "${fails[$set.$t]:-}"; done
done
if [[ $verdict == differs ]]; then
  table="**The outputs did not agree within the stated tolerance ($tolerance_text): no time is reported.**"$'\n'
fi

# Floors (issue): >= 3x faster than exactextract at 300 sites; >= 2x faster than the per-site
# loop at 300 sites; at 20 000 sites no more than 1.5x reclaim's own time at 300 sites.
floor() {  # name mode peer_median reclaim_median need_ratio
  local r; r=$(ratio "$3" "$4")
  awk -v r="$r" -v need="$5" -v name="$1" -v mode="$2" 'BEGIN {
    if (r == "n/a") { printf "- %s (reclaim %s): not measured\n", name, mode; exit }
    printf "- %s (reclaim %s): %.2fx, floor %sx: %s\n", name, mode, r, need, (r + 0 >= need ? "MET" : "NOT MET") }'
}
floors=""
for mode in exact center; do
  floors+=$(floor "exactextract / reclaim at $n_real sites" $mode "${med[small.exactextract]:-}" "${med[small.reclaim_$mode]:-}" 3)$'\n'
  floors+=$(floor "rasterio loop / reclaim at $n_real sites" $mode "${med[small.rasterio_loop]:-}" "${med[small.reclaim_$mode]:-}" 2)$'\n'
  r=$(ratio "${med[large.reclaim_$mode]:-}" "${med[small.reclaim_$mode]:-}")
  floors+=$(awk -v r="$r" -v mode=$mode -v a="$n_random" -v b="$n_real" 'BEGIN {
    if (r == "n/a") { printf "- reclaim %s, %s vs %s sites: not measured\n", mode, a, b; exit }
    printf "- reclaim %s time at %s sites / at %s sites: %.2fx, ceiling 1.5x: %s\n", mode, a, b, r, (r + 0 <= 1.5 ? "MET" : "NOT MET") }')$'\n'
  if [[ -n $baseline_bin ]]; then
    for set in small large; do
      r=$(ratio "${med[$set.baseline_$mode]:-}" "${med[$set.reclaim_$mode]:-}")
      floors+=$(floor_check "baseline build / this build, $set zone set, $mode" "$r" ">=" 0.95)$'\n'
    done
  fi
done

machine_facts  # cpu_model, mem_gb, ncpu, tag (lib.sh)
results=${RESULTS_FILE:-$repo/bench/results/zonal-e2e-$tag.md}
versions=$("$py" - <<'PYEOF'
from osgeo import gdal
import numpy, importlib.metadata as md
parts = [f"GDAL (osgeo, reclaim's) {gdal.__version__}", f"numpy {numpy.__version__}",
         f"exactextract {md.version('exactextract')}"]
try:
    import rasterio
    parts.append(f"rasterio {rasterio.__version__} (wheel's own GDAL {rasterio.__gdal_version__})")
except ImportError:
    pass
print(", ".join(parts))
PYEOF
)
mkdir -p "$(dirname "$results")"
{
  echo "# Zonal statistics end to end: reclaim vs exactextract vs a rasterio per-site loop ($tag)"
  echo
  echo "Produced by \`bench/peers/compare_zonal.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
  echo
  echo "- CPU: $cpu_model, $ncpu logical cores; RAM: $mem_gb GiB; no GPU (reclaim on its CPU backend)"
  echo "- $versions"
  [[ -n $baseline_bin ]] && echo "- reclaim: $(realpath "$reclaim_bin"); baseline build: $baseline_bin"
  echo "- value raster: $ndvi, $size x $size Float32 COG (512 x 512 blocks, DEFLATE), NaN nodata, EPSG:32649,"
  echo "  made by \`reclaim indices --input $scene --index ndvi --out $ndvi_dir\`"
  echo "- zones: $real (first $n_real sites of synth-$size/sites.gpkg, reprojected to EPSG:32649) and"
  echo "  $rand ($n_random random noisy ellipses, 12-40 vertices, 30-400 m across, inside the scene), both by bench/peers/zonal_make_sites.py"
  echo "- statistics: count, sum, mean, min, max, stddev (exactextract: stdev). Median is supported by all three"
  echo "  (reclaim: binned histogram, approximate; exactextract and numpy: exact) and left out of the timing"
  echo "- $reps runs per tool at $n_real sites, $reps_large at $n_random, interleaved and rotated, warm page cache;"
  echo "  wall time of the whole process (start-up, reading, writing the CSV); peak RSS = largest over runs"
  echo
  echo "$table"
  echo "## Agreement"
  echo
  echo "$verdict; tolerance: $tolerance_text."
  echo
  echo "Largest relative difference per statistic over all zones. In exact mode counts are coverage sums"
  echo "(fractional), so count_differs (exact equality) means nothing there; in center mode it must be 0."
  echo
  echo -n "$agreement"
  echo
  echo "## Floors"
  echo
  [[ $verdict == differs ]] && echo "(not reported: the outputs did not agree)" || echo -n "$floors"
  echo
  echo "## Commands"
  echo
  echo '```sh'
  for t in "${tools[@]}"; do
    command_of "$t" "$real" "$zdir/out-small-$t.csv"
    printf '%s\n' "# $t (the 20 000-site runs use $rand)"
    shell_words "${cmd[@]}"
  done
  echo '```'
} >"$results"
echo "$table"
echo -n "$agreement"
[[ $verdict == differs ]] || echo -n "$floors"
suite_write zonal "$tolerance_text" "$size x $size NDVI; $n_real real-looking and $n_random random sites" "$results" "$floors"
log "results: $results"
[[ $verdict != differs ]]
