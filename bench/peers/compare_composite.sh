#!/usr/bin/env bash
# End-to-end median composite of a season (issue 11): reclaim against the Python a user would
# write (odc-stac into xarray, .median("time")) and against the read+decode floor, side by side.
#
#   set         bench/peers/make_composite_set.py: SCENES scenes (default 20) of SIZE x SIZE
#               (default 10980, one Sentinel-2 tile), blue/green/red/nir uint16 DEFLATE COGs at
#               10 m, swir16/swir22 and scl at 20 m, CLOUD % (default 30) masked as blobs, and a
#               STAC ItemCollection in Earth Search v1 form (made once, cached in WORK_DIR)
#   reclaim     reclaim composite --input 2019=items.json --bands-out blue,green,red,nir
#               (median; writes the four bands and clear_count as DEFLATE COGs)
#   xarray      bench/peers/composite_xarray.py in bench/.venv-peers (pinned PyPI versions, made
#               here when missing): odc.stac.load(chunks=2048) -> mask SCL 3/8/9/10 and DN 0 ->
#               x 1e-4 -> .median("time", skipna=True) -> four tiled DEFLATE GeoTIFFs (rioxarray)
#   io_floor    bench/peers/composite_io_floor: GDAL ReadBlock of every block of the files the
#               composite needs (blue, green, red, nir, scl of every scene), 2 threads, nothing
#               else: the time nothing that reads these scenes beats
#   io_floor_all   the same over every asset of the items (+ swir16, swir22): what reclaim reads,
#               since its STAC reader needs all six bands and a composite reads every band all
#               scenes have (docs/inventories.md, docs/composites.md)
#
# Order: one untimed run of reclaim and of xarray, then the outputs are compared (NaN patterns
# must agree exactly, values within TOL_ULP float32 steps). If they do not agree, no time is
# reported (the results file says why) and the exit status is 1. Then each tool runs REPS times,
# interleaved (order rotating), warm page cache; median wall time, peak RSS (largest over runs,
# measure.py), ratios. Floors of issue 11: xarray / reclaim >= 3, reclaim peak RSS < 1.5 GB,
# reclaim / io_floor <= 1.5. The markdown goes to bench/results/composite-e2e-<machine>.md.
#
# Environment:
#   RECLAIM_BIN   the CLI (default build/reclaim)
#   WORK_DIR      scene set and outputs, outside the repo (default /tmp/reclaim-bench)
#   SIZE          10 m side of the scenes (default 10980; about an hour on a 2-core VM)
#   SCENES, CLOUD scenes (default 20), masked percent (default 30)
#   REPS          timed runs per tool (default 3)
#   TOOLS         subset (default: reclaim xarray io_floor io_floor_all)
#   RECLAIM_ARGS  extra arguments for reclaim composite (e.g. "--memory-budget 4G --readers 2")
#   CHUNK         dask chunk side of the xarray script (default 2048)
#   TOL_ULP       float32 steps allowed between reclaim and xarray (default 2: the script scales
#                 in float32, float32(DN) x float32(1e-4), one step off reclaim's double product
#                 rounded once; an even count's median averages two such values)
#   VENV          the peers' venv (default bench/.venv-peers; git-ignored)
#   RESULTS_FILE  where the markdown goes (default bench/results/composite-e2e-<machine>.md)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$repo/bench/peers"
# shellcheck source=bench/peers/lib.sh
source "$here/lib.sh"  # peers_measure, median, maxof, ratio, floor_check, machine_facts, shell_words, build_change_io_floor
py=/usr/bin/python3
reclaim_bin=${RECLAIM_BIN:-$repo/build/reclaim}
work=${WORK_DIR:-/tmp/reclaim-bench}
size=${SIZE:-10980}
scenes=${SCENES:-20}
cloud=${CLOUD:-30}
reps=${REPS:-3}
chunk=${CHUNK:-2048}
tol_ulp=${TOL_ULP:-2}
venv=${VENV:-$repo/bench/.venv-peers}
tools_wanted=${TOOLS:-reclaim xarray io_floor io_floor_all}
read -r -a reclaim_extra <<<"${RECLAIM_ARGS:-}"
bands=blue,green,red,nir
mkdir -p "$work"

log() { printf 'compare_composite: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
want() { [[ " $tools_wanted " == *" $1 "* ]]; }

"$py" -c 'import numpy; from osgeo import gdal' 2>/dev/null || die "$py needs numpy and GDAL (python3-gdal)"
[[ -x "$reclaim_bin" ]] || ! want reclaim || die "reclaim not found at $reclaim_bin (build it, or set RECLAIM_BIN)"

# ---- the peers' venv, with composite_xarray.py's pins ------------------------------------------
if want xarray; then
  pins=$("$py" -c 'import ast, sys
tree = ast.parse(open(sys.argv[1]).read())
print(" ".join(next(ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "PINS")))' \
    "$here/composite_xarray.py")
  # shellcheck disable=SC2086  # the pins are words
  if ! "$venv/bin/python" -c 'import odc.stac, rioxarray, dask' 2>/dev/null; then
    log "making $venv ($pins)"
    [[ -x "$venv/bin/python" ]] || "$py" -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check $pins >&2 || die "pip install into $venv failed"
  fi
  peer_versions=$("$venv/bin/python" -c 'import importlib.metadata as m
print(", ".join(f"{p} {m.version(p)}" for p in ("odc-stac", "odc-geo", "xarray", "dask", "rioxarray", "rasterio", "numpy")))')
fi

# ---- the scene set ------------------------------------------------------------------------------
set_dir="$work/composite-set-$size-$scenes"
items="$set_dir/items.json"
gen_cmd=("$py" "$here/make_composite_set.py" "$set_dir" --size "$size" --scenes "$scenes" --cloud "$cloud")
t_gen=$(date +%s)
"${gen_cmd[@]}"
log "scene set ready ($(($(date +%s) - t_gen)) s): $set_dir"
mapfile -t needed < <(ls "$set_dir"/*_{blue,green,red,nir,scl}.tif)
mapfile -t every < <(ls "$set_dir"/*.tif)
set_facts=$("$py" - "$set_dir" <<'EOF'
import glob, json, os, sys
from osgeo import gdal
gdal.UseExceptions()
d = sys.argv[1]
items = json.load(open(os.path.join(d, "items.json")))["features"]
def fact(key):
    ds = gdal.Open(glob.glob(os.path.join(d, f"*_{key}.tif"))[0])
    b = ds.GetRasterBand(1)
    bx, by = b.GetBlockSize()
    return (f"{key} {ds.RasterXSize} x {ds.RasterYSize} {gdal.GetDataTypeName(b.DataType)} "
            f"({ds.GetMetadata('IMAGE_STRUCTURE').get('COMPRESSION', '?')}, {bx} x {by} blocks)")
mb = sum(os.path.getsize(f) for f in glob.glob(os.path.join(d, "*.tif"))) / 1048576
mb4 = sum(os.path.getsize(f) for k in ("blue", "green", "red", "nir", "scl")
          for f in glob.glob(os.path.join(d, f"*_{k}.tif"))) / 1048576
cc = [i["properties"]["eo:cloud_cover"] for i in items]
print(f"{len(items)} scenes ({items[0]['properties']['datetime'][:10]} .. {items[-1]['properties']['datetime'][:10]}), "
      f"per scene {fact('red')}, blue/green/nir alike; {fact('swir16')}, swir22 alike; {fact('scl')}; "
      f"SCL masked (3, 8, 9, 10) {min(cc):.1f} .. {max(cc):.1f} % per scene; "
      f"files {mb4:.0f} MB (4 bands + scl), {mb:.0f} MB (all assets)")
EOF
)
log "set: $set_facts"

# ---- the floor binary --------------------------------------------------------------------------
floor_bin="$work/composite_io_floor"
if want io_floor || want io_floor_all; then
  build_change_io_floor "$here/composite_io_floor.cpp" "$floor_bin" ||
    die "could not compile composite_io_floor (needs GDAL headers: libgdal-dev)"
fi

out_of() { echo "$work/out-composite-$1"; }
command_of() {  # fills the array `cmd` for tool $1
  case $1 in
    reclaim) cmd=("$reclaim_bin" composite --input "2019=$items" --out "$(out_of reclaim)" --bands-out "$bands"
                  --log-format json "${reclaim_extra[@]}") ;;
    xarray) cmd=("$venv/bin/python" "$here/composite_xarray.py" "$items" "$(out_of xarray)" --bands "$bands"
                 --chunk "$chunk") ;;
    io_floor) cmd=("$floor_bin" --threads 2 "${needed[@]}") ;;
    io_floor_all) cmd=("$floor_bin" --threads 2 "${every[@]}") ;;
  esac
}
tools=()
for t in reclaim xarray io_floor io_floor_all; do want "$t" && tools+=("$t"); done
((${#tools[@]})) || die "nothing to run (TOOLS=$tools_wanted)"

log "warming the page cache with the set"
cat "$set_dir"/*.tif >/dev/null

run_tool() {  # TOOL LOG: one measured run into an empty output folder; sets m_*
  local o
  o=$(out_of "$1")
  rm -rf "$o"
  mkdir -p "$o"
  command_of "$1"
  peers_measure "$2" "${cmd[@]}"
  [[ $m_rc -eq 0 ]] || die "$1 failed (rc=$m_rc): $(tail -3 "$2" | tr '\n' ' ')"
}

# ---- agreement first (untimed runs) -------------------------------------------------------------
agreement=""
agreed=1
if want reclaim && want xarray; then
  for t in reclaim xarray; do
    log "check run: $t"
    run_tool "$t" "$work/composite-$t-check.log"
  done
  agreement=$("$py" - "$(out_of reclaim)" "$(out_of xarray)" "$bands" "$tol_ulp" "$set_dir" <<'EOF'
import glob
import sys
import numpy as np
from osgeo import gdal
gdal.UseExceptions()
rec, xr, bands, tol, set_dir = sys.argv[1], sys.argv[2], sys.argv[3].split(","), int(sys.argv[4]), sys.argv[5]
ok = True
rows = []


def steps(a, b):
    """float32 steps between finite positive values (distance of their bit patterns)."""
    return np.abs(a.view(np.int32).astype(np.int64) - b.view(np.int32).astype(np.int64))


# An independent reference on a central 512 x 512 window: numpy in float64 from the DNs (SCL
# replicated from 20 m), reflectance DN x 1e-4 rounded to float32 as stored, np.nanmedian in
# float64, rounded once to float32 (the rule of docs/composites.md).
ds0 = gdal.Open(f"{rec}/2019_{bands[0]}.tif")
h, w = ds0.RasterYSize, ds0.RasterXSize
win = min(512, h, w) // 2 * 2
y0, x0 = (h - win) // 4 * 2, (w - win) // 4 * 2
scl = np.stack([gdal.Open(f).ReadAsArray(x0 // 2, y0 // 2, win // 2, win // 2)
                for f in sorted(glob.glob(f"{set_dir}/*_scl.tif"))])
masked = np.isin(scl, (3, 8, 9, 10)).repeat(2, axis=1).repeat(2, axis=2)
ref_rows = []
for b in bands:
    dn = np.stack([gdal.Open(f).ReadAsArray(x0, y0, win, win) for f in sorted(glob.glob(f"{set_dir}/*_{b}.tif"))])
    r = (dn.astype(np.float64) * 1e-4).astype(np.float32).astype(np.float64)
    r[masked | (dn == 0)] = np.nan
    with np.errstate(all="ignore"):
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            ref = np.nanmedian(r, axis=0).astype(np.float32)
    cells = []
    for path in (f"{rec}/2019_{b}.tif", f"{xr}/{b}.tif"):
        v = gdal.Open(path).ReadAsArray(x0, y0, win, win).astype(np.float32)
        fin = ~np.isnan(v) & ~np.isnan(ref)
        st = steps(v[fin], ref[fin])
        cells.append(f"{np.count_nonzero(np.isnan(v) != np.isnan(ref))} NaN mismatches, max {int(st.max()) if st.size else 0} "
                     f"steps, {100.0 * np.count_nonzero(st == 0) / max(st.size, 1):.2f} % equal")
    ref_rows.append(f"| {b} | {cells[0]} | {cells[1]} |")

for b in bands:
    a = gdal.Open(f"{rec}/2019_{b}.tif").ReadAsArray()
    x = gdal.Open(f"{xr}/{b}.tif").ReadAsArray().astype(np.float32)
    if a.shape != x.shape:
        rows.append(f"| {b} | shape {a.shape} vs {x.shape} | | | | |")
        ok = False
        continue
    na, nx = np.isnan(a), np.isnan(x)
    both = ~na & ~nx
    nan_mismatch = int(np.count_nonzero(na != nx))
    # float32 steps apart: distance of the ordered integer representations (values are positive)
    ulp = steps(a[both], x[both])
    maxulp = int(ulp.max()) if ulp.size else 0
    diff = float(np.max(np.abs(a[both].astype(np.float64) - x[both]))) if both.any() else 0.0
    same = 100.0 * (np.count_nonzero(ulp == 0) + np.count_nonzero(na & nx)) / a.size
    off1 = 100.0 * np.count_nonzero(ulp == 1) / a.size
    ok &= nan_mismatch == 0 and maxulp <= tol
    rows.append(f"| {b} | {100.0 * np.count_nonzero(na) / a.size:.3f} % | {nan_mismatch} | {maxulp} | {diff:.3g} | "
                f"{same:.4f} % | {off1:.4f} % |")
c = gdal.Open(f"{rec}/2019_clear_count.tif").ReadAsArray()
print("\n".join(rows))
print(f"REF {win} x {win} window at column {x0}, row {y0}")
print("\n".join("REF" + r for r in ref_rows))
print(f"clear_count (reclaim): mean {c.mean():.2f} of {int(c.max())} max, min {int(c.min())}")
print("AGREED" if ok else "NOT AGREED")
EOF
) || die "the agreement check failed to run"
  [[ $(tail -1 <<<"$agreement") == AGREED ]] || agreed=0
  clear_line=$(tail -2 <<<"$agreement" | head -1)
  ref_window=$(grep '^REF ' <<<"$agreement" | sed 's/^REF //')
  ref_rows=$(grep '^REF|' <<<"$agreement" | sed 's/^REF//')
  agreement=$(grep '^| ' <<<"$agreement")
  log "agreement: $( ((agreed)) && echo "within $tol_ulp ulp, NaN patterns equal" || echo "NOT within tolerance")"
fi

# ---- timed runs: interleaved, rotating the order -------------------------------------------------
declare -A walls rss
if ((agreed)); then
  n=${#tools[@]}
  for ((rep = 1; rep <= reps; ++rep)); do
    for ((j = 0; j < n; ++j)); do
      t=${tools[$(((j + rep - 1) % n))]}
      run_tool "$t" "$work/composite-$t.log"
      wall=$m_wall_s
      [[ $t == io_floor* ]] && wall=$(awk '/^read_decode_s/ {print $2}' "$work/composite-$t.log")
      walls[$t]+="$wall "
      rss[$t]+="$m_max_rss_kb "
      log "rep $rep/$reps $t: $wall s, peak RSS $((m_max_rss_kb / 1024)) MB"
    done
  done
fi

# ---- table + markdown ---------------------------------------------------------------------------
med_of() { [[ -n ${walls[$1]:-} ]] && echo "${walls[$1]}" | median; }
rss_mb() { [[ -n ${rss[$1]:-} ]] && echo $(($(echo "${rss[$1]}" | maxof) / 1024)); }
rec_med=$(med_of reclaim || true)
table="| tool | median s | runs s | peak RSS MB | time / reclaim's |"$'\n'"| --- | ---: | --- | ---: | ---: |"$'\n'
for t in "${tools[@]}"; do
  [[ -n ${walls[$t]:-} ]] || continue
  label=$t
  [[ $t == io_floor ]] && label="io_floor (read+decode blue green red nir scl)"
  [[ $t == io_floor_all ]] && label="io_floor_all (read+decode every asset, + swir16 swir22)"
  table+="| $label | $(printf '%.2f' "$(med_of "$t")") | ${walls[$t]% } | $(rss_mb "$t") | $(ratio "$(med_of "$t")" "$rec_med") |"$'\n'
done
speedup=$(ratio "$(med_of xarray || true)" "$rec_med")
over_floor=$(ratio "$rec_med" "$(med_of io_floor || true)")
over_floor_all=$(ratio "$rec_med" "$(med_of io_floor_all || true)")
rec_gb=$(awk -v k="$(echo "${rss[reclaim]:-}" | maxof)" 'BEGIN {if (k == "") print "n/a"; else printf "%.2f", k / 1048576}')
x_gb=$(awk -v k="$(echo "${rss[xarray]:-}" | maxof)" 'BEGIN {if (k == "") print "n/a"; else printf "%.2f", k / 1048576}')
floors=$(floor_check "xarray time / reclaim time" "$speedup" ">=" 3
         floor_check "reclaim peak RSS (GiB)" "$rec_gb" "<" 1.5
         floor_check "reclaim time / read+decode floor (4 bands + scl)" "$over_floor" "<=" 1.5)

machine_facts  # cpu_model, mem_gb, ncpu, tag (lib.sh)
gdal_version=$(gdalinfo --version 2>/dev/null || "$py" -c 'from osgeo import gdal; print(gdal.__version__)')
results=${RESULTS_FILE:-$repo/bench/results/composite-e2e-$tag.md}
mkdir -p "$(dirname "$results")"
{
  echo "# End-to-end median composite: reclaim vs odc-stac + xarray ($tag)"
  echo
  echo "Produced by \`bench/peers/compare_composite.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
  echo
  echo "- CPU: $cpu_model, $ncpu logical cores; RAM: $mem_gb GiB; $gdal_version (reclaim, the floor)"
  [[ -n ${peer_versions:-} ]] && echo "- xarray script: $peer_versions (bench/.venv-peers, pinned in composite_xarray.py)"
  echo "- set (SIZE=$size): $set_facts"
  echo "- set made by: \`$(shell_words "${gen_cmd[@]}")\`"
  echo "- $reps timed runs per tool after one untimed check run, interleaved, warm page cache; median wall time;"
  echo "  peak RSS = largest over runs (getrusage of the children, measure.py)"
  echo
  if ((!agreed)); then
    echo "**The outputs did not agree within $tol_ulp float32 step(s) with equal NaN patterns: no time is reported.**"
    echo
  else
    echo "$table"
    echo "Floors of issue 11:"
    echo
    echo "$floors"
    echo "- reclaim time / read+decode floor of every asset it reads (+ swir16, swir22): $over_floor_all"
    echo "- xarray script peak RSS: $x_gb GiB"
    echo
  fi
  if [[ -n $agreement ]]; then
    echo "Agreement, checked before timing (reclaim's 2019_<band>.tif against the xarray script's <band>.tif):"
    echo
    echo "| band | NaN share | NaN mismatches | max float32 steps | max abs diff | bit-identical | 1 step apart |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    echo "$agreement"
    echo
    echo "$clear_line. Tolerance: NaN patterns equal, values within $tol_ulp float32 steps: the xarray"
    echo "script scales in float32 (xarray's where() makes uint16 float32, then x 0.0001 in float32), reclaim"
    echo "computes DN x 1e-4 in double and rounds once, so one observation can differ by one step, and the"
    echo "mean of the two middle values of an even count by two."
    echo
    echo "Both against an independent numpy reference ($ref_window: reflectance DN x 1e-4 in float64"
    echo "rounded to float32, NaN where SCL is 3, 8, 9, 10 or DN is 0, np.nanmedian in float64, rounded once):"
    echo
    echo "| band | reclaim vs numpy | xarray script vs numpy |"
    echo "| --- | --- | --- |"
    echo "$ref_rows"
    echo
  fi
  echo "Commands (each run starts from an empty output folder):"
  echo
  echo '```sh'
  for t in "${tools[@]}"; do
    command_of "$t"
    [[ $t == io_floor* ]] && { echo "# $t: ${cmd[*]:0:3} <the $((${#cmd[@]} - 3)) files>"; continue; }
    echo "# $t"
    shell_words "${cmd[@]}"
  done
  echo '```'
} >"$results"

echo
((agreed)) && { echo "$table"; echo "$floors"; }
[[ -n $agreement ]] && { echo "$agreement"; echo "vs numpy ($ref_window):"; echo "$ref_rows"; }
for t in "${tools[@]}"; do suite_tool "" "$t" "${walls[$t]:-}" "${rss[$t]:-}" ""; done
if [[ -n $agreement ]]; then
  agree_check "reclaim vs xarray script" "$agreed" "NaN patterns and values within $tol_ulp float32 steps"
fi
suite_write composite "reclaim vs the xarray script: equal NaN patterns, values within $tol_ulp float32 steps" \
  "$set_facts" "$results" "$( ((agreed)) && echo "$floors")"
log "results: $results"
((agreed))
