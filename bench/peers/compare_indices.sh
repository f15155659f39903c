#!/usr/bin/env bash
# End-to-end NDVI on one Sentinel-2-like scene: reclaim against the tools a power user would
# otherwise reach for, and against the GDAL I/O floor, side by side in one run.
#
#   reclaim      reclaim indices --sensor sentinel2-l2a --index ndvi (COG, DEFLATE)
#   gdal_calc    gdal_calc.py, same NDVI (S2 scaling, SCL mask, NaN nodata, Float32), every
#                threading option set; tiled DEFLATE GTiff with the floating-point predictor
#                (gdal_calc writes through Create(), which the COG driver does not offer)
#   otb          otbcli_RadiometricIndices Vegetation:NDVI (installed from apt when missing
#                and available; it computes NDVI on raw DNs: no BOA offset, no SCL mask)
#   io_floor     bench/peers/io_floor: GDAL read+decode of bands 3, 4, 7 (2 threads) plus
#                encode+write of the same Float32 COG; no compute. The time nothing beats.
#
# Each tool runs REPS times, interleaved (tool order rotates through reps, all on a warm page
# cache); the table gives the median wall time, the peak RSS (largest over reps) and the
# ratio to reclaim's median. Outputs are compared with gdal_calc's as a check that the tools
# did the same work. The markdown goes to bench/results/indices-e2e-<machine>.md.
#
# Environment:
#   RECLAIM_BIN   the CLI (default build/reclaim); when missing, peers only (then SCENE is needed)
#   WORK_DIR      scene cache and outputs, outside the repo (default /tmp/reclaim-bench)
#   SIZE          scene side for `reclaim synth` (default 10980, a Sentinel-2 tile at 10 m)
#   SCENE         use this scene instead of generating one (synth layout: B02 B03 B04 B08 B11 B12 SCL)
#   REPS          runs per tool (default 3)
#   TOOLS         subset, e.g. "reclaim gdal_calc" (default: reclaim gdal_calc otb io_floor)
#   IO_FLOOR_BIN  io_floor binary (default build/bench/io_floor, else compiled into WORK_DIR)
#   INSTALL_OTB   0: never apt-get install otb-bin (default 1)
#   OTB_RAM_MB    OTB_MAX_RAM_HINT for otbcli (default 1024)
#   RESULTS_FILE  where the markdown goes (default bench/results/indices-e2e-<machine>.md;
#                 peers-only runs default to WORK_DIR so a test run never lands in the repo)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$repo/bench/peers"
# shellcheck source=bench/peers/lib.sh
source "$here/lib.sh"  # median, maxof, ratio, machine_facts, shell_words
py=/usr/bin/python3
reclaim_bin=${RECLAIM_BIN:-$repo/build/reclaim}
work=${WORK_DIR:-/tmp/reclaim-bench}
size=${SIZE:-10980}
reps=${REPS:-3}
tools_wanted=${TOOLS:-reclaim gdal_calc otb io_floor}
ncpu=$(nproc)
mkdir -p "$work"

log() { printf 'compare_indices: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
want() { [[ " $tools_wanted " == *" $1 "* ]]; }

"$py" -c 'import numpy; from osgeo import gdal' 2>/dev/null || die "$py needs numpy and GDAL (python3-gdal)"
notes=()
floor_parts=()
# Agreement before any time is reported: reclaim's NDVI (float32 arithmetic) and gdal_calc's
# (float64, rounded once) may differ by a float32 step near |NDVI| = 1, never in NaN pattern.
ndvi_tolerance=2.4e-7
tolerance_text="NDVI vs gdal_calc's float64 expression: equal NaN patterns, max abs diff <= $ndvi_tolerance (2 float32 steps at 1)"

# ---- reclaim and the scene ---------------------------------------------------------------------
have_reclaim=0
if want reclaim; then
  if [[ -x "$reclaim_bin" ]]; then
    have_reclaim=1
  else
    log "reclaim not found at $reclaim_bin (set RECLAIM_BIN): running the peers only"
    notes+=("reclaim: not run ($reclaim_bin missing)")
  fi
fi
scene=${SCENE:-}
if [[ -z "$scene" ]]; then
  [[ -x "$reclaim_bin" ]] || die "no scene: set SCENE, or build reclaim so that 'reclaim synth' can make one"
  synth_dir="$work/synth-$size"
  scene="$synth_dir/2025.tif"
  if [[ ! -f "$scene" ]]; then
    log "generating a $size x $size scene in $synth_dir (once; cached)"
    synth_cmd=("$reclaim_bin" synth --out "$synth_dir" --width "$size" --height "$size")
    "${synth_cmd[@]}" >&2
    notes+=("scene: \`${synth_cmd[*]}\`, then $scene")
  else
    notes+=("scene: \`$reclaim_bin synth --out $synth_dir --width $size --height $size\` (cached), then $scene")
  fi
else
  notes+=("scene: $scene (given)")
fi
[[ -f "$scene" ]] || die "scene $scene does not exist"
scene=$(cd "$(dirname "$scene")" && pwd)/$(basename "$scene")
scene_facts=$("$py" - "$scene" <<'EOF'
import sys
from osgeo import gdal
gdal.UseExceptions()
ds = gdal.Open(sys.argv[1])
b = ds.GetRasterBand(3)
bx, by = b.GetBlockSize()
md = ds.GetMetadata("IMAGE_STRUCTURE")
if ds.RasterCount < 7:
    sys.exit(f"{sys.argv[1]}: {ds.RasterCount} bands, the synth layout has 7")
print(f"{ds.RasterXSize} x {ds.RasterYSize}, {ds.RasterCount} bands {gdal.GetDataTypeName(b.DataType)}, "
      f"blocks {bx} x {by}, {md.get('COMPRESSION', 'uncompressed')}, interleave {md.get('INTERLEAVE', '?')}")
EOF
) || die "cannot read $scene"
log "scene: $scene: $scene_facts"

# ---- io_floor -----------------------------------------------------------------------------------
io_floor=""
if want io_floor; then
  io_floor=${IO_FLOOR_BIN:-}
  [[ -z "$io_floor" && -x "$repo/build/bench/io_floor" ]] && io_floor="$repo/build/bench/io_floor"
  [[ -n "$io_floor" ]] && io_floor=$(realpath "$io_floor")
  if [[ -z "$io_floor" ]]; then
    io_floor="$work/io_floor"
    if [[ ! -x "$io_floor" || "$here/io_floor.cpp" -nt "$io_floor" ]]; then
      log "compiling io_floor into $work"
      # shellcheck disable=SC2046  # gdal-config prints flag lists
      c++ -O2 -std=c++17 $(gdal-config --cflags) "$here/io_floor.cpp" -o "$io_floor" $(gdal-config --libs) -pthread ||
        die "could not compile io_floor (needs GDAL headers: libgdal-dev)"
    fi
  fi
fi

# ---- OTB ------------------------------------------------------------------------------------------
have_otb=0
otb_version=""
if want otb; then
  if ! command -v otbcli_RadiometricIndices >/dev/null 2>&1 && [[ ${INSTALL_OTB:-1} == 1 ]]; then
    if apt-cache show otb-bin >/dev/null 2>&1 && [[ $(id -u) -eq 0 ]]; then
      log "installing otb-bin from apt (log: $work/apt-otb.log)"
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends otb-bin >"$work/apt-otb.log" 2>&1 ||
        log "apt-get install otb-bin failed (see $work/apt-otb.log)"
    else
      log "otb-bin is not installable here (no apt candidate, or not root)"
    fi
  fi
  if command -v otbcli_RadiometricIndices >/dev/null 2>&1; then
    have_otb=1
    otb_version=$(dpkg-query -W -f '${Version}' otb-bin 2>/dev/null || echo "version unknown")
  else
    notes+=("otb: skipped (otbcli_RadiometricIndices not available)")
  fi
fi

# ---- the commands ---------------------------------------------------------------------------------
# gdal_calc: A = B04 red, B = B08 NIR, C = SCL. Reflectance (DN + BOA_OFFSET) * 1e-4 in float32,
# the Sentinel-2 rule with the scene's BOA_ADD_OFFSET (0 for `reclaim synth` scenes, the CLI's
# default; set BOA_OFFSET=-1000 for processing baseline 04.00+ scenes); DN 0 and >= 65535 invalid; SCL 3, 8, 9, 10 masked; NaN where
# NIR + red == 0. --hideNoData: the expression does all masking (gdal_calc's own nodata
# propagation would multiply by the NaN nodata value and blank every pixel).
boa=${BOA_OFFSET:-0}
calc_expr="numpy.where((A==0)|(B==0)|(A>=65535)|(B>=65535)|numpy.isin(C,[3,8,9,10])|((s:=(n:=(B.astype(numpy.float32)+($boa))*numpy.float32(0.0001))+(r:=(A.astype(numpy.float32)+($boa))*numpy.float32(0.0001)))==0),numpy.float32(numpy.nan),(n-r)/numpy.where(s==0,numpy.float32(1),s))"

out_of() { echo "$work/out-$1"; }
tif_of() {
  case $1 in
    reclaim) echo "$(out_of reclaim)/ndvi.tif" ;;
    gdal_calc) echo "$(out_of gdal_calc)/ndvi.tif" ;;
    otb) echo "$(out_of otb)/ndvi.tif" ;;
    io_floor) echo "$(out_of io_floor)/ndvi.tif" ;;
  esac
}
command_of() {  # fills the array `cmd` for tool $1
  local o
  o=$(out_of "$1")
  case $1 in
    reclaim)
      cmd=("$reclaim_bin" indices --input "$scene" --sensor sentinel2-l2a --boa-offset "$boa" --index ndvi --out "$o") ;;
    gdal_calc)
      cmd=(env GDAL_NUM_THREADS=ALL_CPUS gdal_calc.py --quiet --overwrite
           -A "$scene" --A_band=3 -B "$scene" --B_band=4 -C "$scene" --C_band=7
           --calc="$calc_expr" --type=Float32 --NoDataValue=nan --hideNoData
           --format=GTiff --co=TILED=YES --co=BLOCKXSIZE=512 --co=BLOCKYSIZE=512 --co=COMPRESS=DEFLATE
           --co=PREDICTOR=3 --co=NUM_THREADS=ALL_CPUS --co=BIGTIFF=IF_SAFER --outfile="$o/ndvi.tif") ;;
    otb)
      cmd=(env "OTB_MAX_RAM_HINT=${OTB_RAM_MB:-1024}" "ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS=$ncpu" GDAL_NUM_THREADS=ALL_CPUS
           otbcli_RadiometricIndices -in "$scene" -channels.red 3 -channels.nir 4 -list Vegetation:NDVI
           -out "$o/ndvi.tif?&gdal:co:TILED=YES&gdal:co:BLOCKXSIZE=512&gdal:co:BLOCKYSIZE=512&gdal:co:COMPRESS=DEFLATE&gdal:co:PREDICTOR=3&gdal:co:NUM_THREADS=ALL_CPUS&gdal:co:BIGTIFF=IF_SAFER"
           float) ;;
    io_floor)
      cmd=("$io_floor" --input "$scene" --out "$o/ndvi.tif" --bands "3,4,7" --threads 2 --boa-offset "$boa") ;;
  esac
}

tools=()
((have_reclaim)) && tools+=(reclaim)
want gdal_calc && tools+=(gdal_calc)
((have_otb)) && tools+=(otb)
[[ -n "$io_floor" ]] && tools+=(io_floor)
((${#tools[@]})) || die "nothing to run (TOOLS=$tools_wanted)"

log "warming the page cache with $scene"
cat "$scene" >/dev/null

# ---- run: interleaved, rotating the order each rep -------------------------------------------------
declare -A walls rss fails
n=${#tools[@]}
for ((rep = 1; rep <= reps; ++rep)); do
  for ((j = 0; j < n; ++j)); do
    t=${tools[$(((j + rep - 1) % n))]}
    o=$(out_of "$t")
    rm -rf "$o"
    mkdir -p "$o"
    command_of "$t"
    line=$("$py" "$here/measure.py" --log "$work/$t.log" -- "${cmd[@]}")
    read -r m_wall_s m_max_rss_kb m_rc <<<"$(sed -E 's/[a-z_]+=//g' <<<"$line")"  # wall_s= max_rss_kb= rc=
    if [[ $m_rc -ne 0 ]]; then
      log "$t failed (rc=$m_rc), rep $rep: $(tail -3 "$work/$t.log" | tr '\n' ' ')"
      fails[$t]="rc=$m_rc"
      continue
    fi
    wall=$m_wall_s
    if [[ $t == io_floor ]]; then  # its own timings: the wall time includes untimed NDVI prep
      wall=$(awk '/^floor_s/ {print $2}' "$work/$t.log")
      read_s=$(awk '/^read_decode_s/ {print $2}' "$work/$t.log")
      write_s=$(awk '/^encode_write_s/ {print $2}' "$work/$t.log")
      floor_parts+=("$read_s+$write_s")
    fi
    walls[$t]+="$wall "
    rss[$t]+="$m_max_rss_kb "
    log "rep $rep/$reps $t: ${wall} s, peak RSS $((m_max_rss_kb / 1024)) MB"
  done
done

# ---- check that the outputs agree (gdal_calc's NDVI is the reference) -----------------------------
agreement=""
ref=$(tif_of gdal_calc)
if [[ -f "$ref" ]]; then
  for t in reclaim io_floor otb; do
    f=$(tif_of "$t")
    [[ -f "$f" && -z ${fails[$t]:-} ]] || continue
    agreement+=$("$py" - "$ref" "$f" "$t" <<'EOF'
import sys
import numpy as np
from osgeo import gdal
gdal.UseExceptions()
a = gdal.Open(sys.argv[1]).ReadAsArray().astype(np.float32)
b = gdal.Open(sys.argv[2]).ReadAsArray().astype(np.float32)
if a.shape != b.shape:
    print(f"| {sys.argv[3]} | shape {b.shape} vs {a.shape} | | |")
    sys.exit()
na, nb = np.isnan(a), np.isnan(b)
both = ~na & ~nb
same = np.count_nonzero(both & (a.view(np.uint32) == b.view(np.uint32))) + np.count_nonzero(na & nb)
diff = float(np.max(np.abs(a[both] - b[both]))) if both.any() else 0.0
print(f"| {sys.argv[3]} | {np.count_nonzero(na != nb)} | {diff:.3g} | {100.0 * same / a.size:.4f} % |")
EOF
)$'\n'
    # otb computes NDVI on raw DNs (no offset, no mask): shown, not a check
    if [[ $t != otb ]]; then
      row=$(tail -1 <<<"${agreement%$'\n'}")
      nan_mis=$(awk -F'|' '{gsub(/ /, "", $3); print $3}' <<<"$row")
      maxdiff=$(awk -F'|' '{gsub(/ /, "", $4); print $4}' <<<"$row")
      agree_check "$t vs gdal_calc NDVI" "$(awk -v n="$nan_mis" -v d="$maxdiff" -v tol="$ndvi_tolerance" \
        'BEGIN {print (n == "0" && d != "" && d + 0 <= tol + 0) ? 1 : 0}')" "NaN mismatches $nan_mis, max abs diff $maxdiff"
    fi
  done
fi
verdict=$(agreement_verdict)

# ---- table + markdown -------------------------------------------------------------------------------
ref_med=""
[[ -n ${walls[reclaim]:-} ]] && ref_med=$(echo "${walls[reclaim]}" | median)
table="| tool | median s | peak RSS MB | ratio vs reclaim |"$'\n'"| --- | ---: | ---: | ---: |"$'\n'
for t in "${tools[@]}"; do
  if [[ -z ${walls[$t]:-} ]]; then
    table+="| $t | failed (${fails[$t]:-?}) | | |"$'\n'
    continue
  fi
  med=$(echo "${walls[$t]}" | median)
  peak=$(( $(echo "${rss[$t]}" | maxof) / 1024 ))
  ratio="n/a"
  [[ -n $ref_med ]] && ratio=$(awk -v a="$med" -v b="$ref_med" 'BEGIN {printf "%.2f", a / b}')
  label=$t
  [[ $t == io_floor ]] && { label="io_floor (read+decode + encode+write)"; peak="(holds the raster)"; }
  table+="| $label | $(printf '%.2f' "$med") | $peak | $ratio |"$'\n'
done
for t in "${tools[@]}"; do suite_tool "" "$t" "${walls[$t]:-}" "${rss[$t]:-}" "${fails[$t]:-}"; done
med_of() { [[ -n ${walls[$1]:-} ]] && echo "${walls[$1]}" | median; }
floors=$(floor_check "gdal_calc.py / reclaim (NDVI, issue 13)" "$(ratio "$(med_of gdal_calc)" "$ref_med")" ">=" 2.5)
if [[ $verdict == differs ]]; then
  table="**The outputs did not agree within the stated tolerance ($tolerance_text): no time is reported.**"$'\n'
fi

machine_facts  # cpu_model, mem_gb, ncpu, tag (lib.sh)
gdal_version=$(gdalinfo --version 2>/dev/null || "$py" -c 'from osgeo import gdal; print(gdal.__version__)')
if [[ -n ${RESULTS_FILE:-} ]]; then
  results=$RESULTS_FILE
elif ((have_reclaim)); then
  results="$repo/bench/results/indices-e2e-$tag.md"
else
  results="$work/indices-e2e-$tag-peers-only.md"
fi
mkdir -p "$(dirname "$results")"

{
  echo "# End-to-end NDVI: reclaim vs peers ($tag)"
  echo
  echo "Produced by \`bench/peers/compare_indices.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
  echo
  echo "- CPU: $cpu_model, $ncpu logical cores; RAM: $mem_gb GiB"
  echo "- $gdal_version${otb_version:+; OTB $otb_version}"
  echo "- scene: $scene_facts"
  echo "- $reps runs per tool, interleaved, warm page cache; median wall time; peak RSS = largest over runs"
  if [[ ${#floor_parts[@]} -gt 0 ]]; then echo "- io_floor runs (read+decode s + encode+write s): ${floor_parts[*]}"; fi
  for note in "${notes[@]}"; do echo "- $note"; done
  echo
  echo "$table"
  [[ $verdict == differs ]] || { echo "$floors"; echo; }
  if [[ -n $agreement ]]; then
    echo "Agreement with gdal_calc's NDVI (otb computes NDVI on raw DNs, so it is expected to differ):"
    echo "$verdict; tolerance: $tolerance_text."
    echo
    echo "| tool | NaN mismatches | max abs diff | bit-identical |"
    echo "| --- | ---: | ---: | ---: |"
    echo -n "$agreement"
    echo
  fi
  echo "Commands (each run starts from an empty output folder):"
  echo
  echo '```sh'
  for t in "${tools[@]}"; do
    command_of "$t"
    printf '%s\n' "# $t"
    shell_words "${cmd[@]}"
  done
  echo '```'
} >"$results"

echo
echo "$table"
[[ -n $agreement ]] && { echo "| vs gdal_calc | NaN mismatches | max abs diff | bit-identical |"; echo -n "$agreement"; }
suite_write indices "$tolerance_text" "$scene_facts" "$results" "$floors"
log "results: $results"
[[ $verdict != differs ]]
