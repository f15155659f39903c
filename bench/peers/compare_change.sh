#!/usr/bin/env bash
# End-to-end two-epoch change (class raster + dNDVI) on a Sentinel-2-like scene pair: reclaim
# against the same classification scripted with gdal_calc.py, and against the GDAL I/O floor,
# side by side in one run.
#
#   reclaim     reclaim change --before 2019.tif --after 2025.tif --threshold none (the rule classes, docs/change.md):
#               change_class.tif (Byte COG) and dndvi.tif (Float32 COG), DEFLATE
#   gdal_calc   gdal_calc.py, two calls, every threading option set (GDAL_NUM_THREADS=ALL_CPUS,
#               --co NUM_THREADS=ALL_CPUS):
#                 1. the class raster: ONE expression over the 12 input bands (B02 B03 B04 B08
#                    B11 SCL of both epochs as A..L) computing reflectance, NDVI, BSI and MNDWI of
#                    each epoch in float64 and the first-match rule table with numpy.select;
#                    Byte, tiled DEFLATE, PREDICTOR=2
#                 2. dNDVI: one expression over B04 B08 SCL of both epochs (A..F); Float32, NaN
#                    nodata, tiled DEFLATE, PREDICTOR=3
#               (the fastest chain: no Float32 intermediates to encode, write and decode again;
#               GDAL 3.6's gdal_calc writes through Create(), which the COG driver does not offer,
#               so its outputs are tiled GeoTIFFs with 512 x 512 blocks, the nearest equivalent)
#   io_floor    bench/peers/change_io_floor: GDAL read+decode (ReadBlock, 2 threads) of the six
#               bands the rules need, both epochs, plus encode+write of the two products with
#               reclaim's COG options; no compute. The time nothing beats.
#
# Each tool runs REPS times, interleaved (tool order rotates through reps, all on a warm page
# cache); the table gives the median wall time, the peak RSS (largest over reps) and the ratio
# to reclaim's median. The class rasters and dNDVI are compared with gdal_calc's as a check that
# the tools did the same work. The markdown goes to bench/results/change-e2e-<machine>.md.
#
# Environment:
#   RECLAIM_BIN   the CLI (default build/reclaim); when missing, peers only (then BEFORE/AFTER needed)
#   WORK_DIR      scene cache and outputs, outside the repo (default /tmp/reclaim-bench)
#   SIZE          scene side for `reclaim synth` (default 10980, a Sentinel-2 tile at 10 m)
#   BEFORE, AFTER use these scenes instead of synth's 2019.tif / 2025.tif (synth layout:
#                 B02 B03 B04 B08 B11 B12 SCL, same grid)
#   BOA_OFFSET    Sentinel-2 BOA_ADD_OFFSET of both scenes (default 0, as `reclaim synth` writes)
#   REPS          runs per tool (default 3)
#   TOOLS         subset, e.g. "reclaim gdal_calc" (default: reclaim gdal_calc io_floor)
#   FLOOR_BIN     change_io_floor binary (default: compiled from change_io_floor.cpp into WORK_DIR)
#   RESULTS_FILE  where the markdown goes (default bench/results/change-e2e-<machine>.md;
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
boa=${BOA_OFFSET:-0}
tools_wanted=${TOOLS:-reclaim gdal_calc io_floor}
ncpu=$(nproc)
mkdir -p "$work"

log() { printf 'compare_change: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
want() { [[ " $tools_wanted " == *" $1 "* ]]; }

"$py" -c 'import numpy; from osgeo import gdal' 2>/dev/null || die "$py needs numpy and GDAL (python3-gdal)"
command -v gdal_calc.py >/dev/null 2>&1 || ! want gdal_calc || die "gdal_calc.py not found (gdal-bin)"
notes=()
floor_parts=()
calc_parts=()

# ---- reclaim and the scene pair ------------------------------------------------------------------
have_reclaim=0
if want reclaim; then
  if [[ -x "$reclaim_bin" ]]; then
    have_reclaim=1
  else
    log "reclaim not found at $reclaim_bin (set RECLAIM_BIN): running the peers only"
    notes+=("reclaim: not run ($reclaim_bin missing)")
  fi
fi
before=${BEFORE:-}
after=${AFTER:-}
if [[ -z "$before" || -z "$after" ]]; then
  [[ -z "$before" && -z "$after" ]] || die "set both BEFORE and AFTER, or neither"
  [[ -x "$reclaim_bin" ]] || die "no scenes: set BEFORE and AFTER, or build reclaim so that 'reclaim synth' can make them"
  synth_dir="$work/synth-$size"
  before="$synth_dir/2019.tif"
  after="$synth_dir/2025.tif"
  synth_cmd=("$reclaim_bin" synth --out "$synth_dir" --width "$size" --height "$size")
  if [[ ! -f "$before" || ! -f "$after" ]]; then
    log "generating a $size x $size scene pair in $synth_dir (once; cached)"
    "${synth_cmd[@]}" >&2
    notes+=("scenes: \`${synth_cmd[*]}\`, then 2019.tif (before) and 2025.tif (after)")
  else
    notes+=("scenes: \`${synth_cmd[*]}\` (cached), then 2019.tif (before) and 2025.tif (after)")
  fi
else
  notes+=("scenes: $before (before), $after (after) (given)")
fi
for f in "$before" "$after"; do [[ -f "$f" ]] || die "scene $f does not exist"; done
before=$(realpath "$before")
after=$(realpath "$after")
scene_facts=$("$py" - "$before" "$after" <<'EOF'
import sys
from osgeo import gdal
gdal.UseExceptions()
facts = []
for path in sys.argv[1:]:
    ds = gdal.Open(path)
    b = ds.GetRasterBand(3)
    bx, by = b.GetBlockSize()
    md = ds.GetMetadata("IMAGE_STRUCTURE")
    if ds.RasterCount < 7:
        sys.exit(f"{path}: {ds.RasterCount} bands, the synth layout has 7")
    facts.append((ds.RasterXSize, ds.RasterYSize, f"{ds.RasterCount} bands {gdal.GetDataTypeName(b.DataType)}, "
                  f"blocks {bx} x {by}, {md.get('COMPRESSION', 'uncompressed')}, interleave {md.get('INTERLEAVE', '?')}"))
if facts[0][:2] != facts[1][:2]:
    sys.exit(f"the scenes differ in size: {facts[0][:2]} vs {facts[1][:2]}")
w, h, rest = facts[0]
print(f"2 epochs, each {w} x {h}, {rest}")
EOF
) || die "cannot read the scenes"
log "scenes: $scene_facts"

# ---- the floor --------------------------------------------------------------------------------------
floor_bin=""
if want io_floor; then
  floor_bin=${FLOOR_BIN:-}
  if [[ -n "$floor_bin" ]]; then
    floor_bin=$(realpath "$floor_bin")
  else
    floor_bin="$work/change_io_floor"
    if [[ ! -x "$floor_bin" || "$here/change_io_floor.cpp" -nt "$floor_bin" ]]; then
      log "compiling change_io_floor into $work"
      # shellcheck disable=SC2046  # gdal-config prints flag lists
      c++ -O2 -std=c++17 $(gdal-config --cflags) "$here/change_io_floor.cpp" -o "$floor_bin" $(gdal-config --libs) -pthread ||
        die "could not compile change_io_floor (needs GDAL headers: libgdal-dev)"
    fi
  fi
fi

# ---- the gdal_calc expressions --------------------------------------------------------------------------
# R: reflectance (DN + BOA_OFFSET) * 1e-4 in float64, NaN where DN is 0 or >= 65535 or the epoch's
# SCL is 3, 8, 9 or 10 (M). N: normalised difference, NaN where the sum is 0. The same float64
# arithmetic, in the same order, as reclaim's (include/reclaim/pixel/{reflectance,indices}.hpp),
# so the class rasters should agree bit for bit. --hideNoData: the expressions do all masking.
calc_r="(R:=lambda X,M:numpy.where(M|(X==0)|(X>=65535),numpy.nan,(X.astype(numpy.float64)+($boa))*1e-4))"
calc_n="(N:=lambda p,q:(p-q)/numpy.where((s:=p+q)==0,numpy.nan,s))"
# class: A..F = B02 B03 B04 B08 B11 SCL before, G..L the same after. b: blue, g: green, r: red,
# n: NIR, w: SWIR1; v: NDVI, x: BSI, m: MNDWI; suffix 0 before, 1 after. The default rule table of
# docs/change.md, first match wins (numpy.select): 0 nodata, 6 water, 5 loss, 2 revegetated,
# 3 partial recovery, 4 stable vegetation, 1 stable bare, else 255.
class_expr="[$calc_r,$calc_n,(M0:=numpy.isin(F,[3,8,9,10])),(M1:=numpy.isin(L,[3,8,9,10])),\
(b0:=R(A,M0)),(g0:=R(B,M0)),(r0:=R(C,M0)),(n0:=R(D,M0)),(w0:=R(E,M0)),\
(b1:=R(G,M1)),(g1:=R(H,M1)),(r1:=R(I,M1)),(n1:=R(J,M1)),(w1:=R(K,M1)),\
(v0:=N(n0,r0)),(v1:=N(n1,r1)),(x0:=N(w0+r0,n0+b0)),(x1:=N(w1+r1,n1+b1)),(m0:=N(g0,w0)),(m1:=N(g1,w1)),(d:=v1-v0),\
numpy.select([numpy.isnan(v0)|numpy.isnan(v1)|numpy.isnan(x0)|numpy.isnan(x1)|numpy.isnan(m0)|numpy.isnan(m1),\
(m0>0)|(m1>0),d<=-0.15,(v0<0.2)&(x0>0)&(v1>=0.4),(d>=0.15)&(v1<0.4),(v0>=0.4)&(v1>=0.4),\
(v0<0.2)&(x0>0)&(v1<0.2)&(x1>0)],[0,6,5,2,3,4,1],255).astype(numpy.uint8)][-1]"
# dNDVI: A B C = B04 B08 SCL before, D E F after; NDVI_after - NDVI_before in float64, rounded once.
dndvi_expr="[$calc_r,$calc_n,(M0:=numpy.isin(C,[3,8,9,10])),(M1:=numpy.isin(F,[3,8,9,10])),\
(N(R(E,M1),R(D,M1))-N(R(B,M0),R(A,M0))).astype(numpy.float32)][-1]"
calc_common=(--quiet --overwrite --hideNoData --format=GTiff --co=TILED=YES --co=BLOCKXSIZE=512 --co=BLOCKYSIZE=512
             --co=COMPRESS=DEFLATE --co=NUM_THREADS=ALL_CPUS --co=BIGTIFF=IF_SAFER)

out_of() { echo "$work/out-change-$1"; }
steps_of() {  # the measured commands that make up tool $1 (their times add up)
  case $1 in
    gdal_calc) echo "gdal_calc_class gdal_calc_dndvi" ;;
    *) echo "$1" ;;
  esac
}
command_of() {  # fills the array `cmd` for step $1
  local o
  case $1 in
    reclaim)
      o=$(out_of reclaim)
      # The rule classes, as gdal_calc computes them (the gated default adds two reads: docs/change.md).
      cmd=("$reclaim_bin" change --before "$before" --after "$after" --sensor sentinel2-l2a --boa-offset "$boa"
           --threshold none --out "$o") ;;
    gdal_calc_class)
      o=$(out_of gdal_calc)
      cmd=(env GDAL_NUM_THREADS=ALL_CPUS gdal_calc.py "${calc_common[@]}"
           -A "$before" --A_band=1 -B "$before" --B_band=2 -C "$before" --C_band=3
           -D "$before" --D_band=4 -E "$before" --E_band=5 -F "$before" --F_band=7
           -G "$after" --G_band=1 -H "$after" --H_band=2 -I "$after" --I_band=3
           -J "$after" --J_band=4 -K "$after" --K_band=5 -L "$after" --L_band=7
           --calc="$class_expr" --type=Byte --NoDataValue=0 --co=PREDICTOR=2 --outfile="$o/change_class.tif") ;;
    gdal_calc_dndvi)
      o=$(out_of gdal_calc)
      cmd=(env GDAL_NUM_THREADS=ALL_CPUS gdal_calc.py "${calc_common[@]}"
           -A "$before" --A_band=3 -B "$before" --B_band=4 -C "$before" --C_band=7
           -D "$after" --D_band=3 -E "$after" --E_band=4 -F "$after" --F_band=7
           --calc="$dndvi_expr" --type=Float32 --NoDataValue=nan --co=PREDICTOR=3 --outfile="$o/dndvi.tif") ;;
    io_floor)
      o=$(out_of io_floor)
      cmd=("$floor_bin" --before "$before" --after "$after" --bands "1,2,3,4,5,7" --threads 2 --boa-offset "$boa"
           --out-class "$o/change_class.tif" --out-dndvi "$o/dndvi.tif") ;;
  esac
}

tools=()
((have_reclaim)) && tools+=(reclaim)
want gdal_calc && tools+=(gdal_calc)
[[ -n "$floor_bin" ]] && tools+=(io_floor)
((${#tools[@]})) || die "nothing to run (TOOLS=$tools_wanted)"

log "warming the page cache with both scenes"
cat "$before" "$after" >/dev/null

# ---- run: interleaved, rotating the order each rep -------------------------------------------------
declare -A walls rss fails
# Agreement before any time is reported: the class rasters bit for bit; dNDVI (reclaim: float32
# arithmetic; gdal_calc: float64, rounded once) within a float32 step or two, equal NaN patterns.
dndvi_tolerance=2.4e-7
tolerance_text="vs gdal_calc's float64 expressions: class rasters identical; dNDVI equal NaN patterns, max abs diff <= $dndvi_tolerance"
n=${#tools[@]}
for ((rep = 1; rep <= reps; ++rep)); do
  for ((j = 0; j < n; ++j)); do
    t=${tools[$(((j + rep - 1) % n))]}
    o=$(out_of "$t")
    rm -rf "$o"
    mkdir -p "$o"
    wall=0
    peak=0
    parts=""
    failed=0
    for step in $(steps_of "$t"); do
      command_of "$step"
      line=$("$py" "$here/measure.py" --log "$work/$step.log" -- "${cmd[@]}")
      read -r m_wall_s m_max_rss_kb m_rc <<<"$(sed -E 's/[a-z_]+=//g' <<<"$line")"  # wall_s= max_rss_kb= rc=
      if [[ $m_rc -ne 0 ]]; then
        log "$step failed (rc=$m_rc), rep $rep: $(tail -3 "$work/$step.log" | tr '\n' ' ')"
        fails[$t]="$step rc=$m_rc"
        failed=1
        break
      fi
      wall=$(awk -v a="$wall" -v b="$m_wall_s" 'BEGIN {printf "%.3f", a + b}')
      ((m_max_rss_kb > peak)) && peak=$m_max_rss_kb
      parts+="${parts:++}$m_wall_s"
    done
    ((failed)) && continue
    if [[ $t == io_floor ]]; then  # its own timings: the wall time includes the untimed payload
      wall=$(awk '/^floor_s/ {print $2}' "$work/$t.log")
      read_s=$(awk '/^read_decode_s/ {print $2}' "$work/$t.log")
      enc_c=$(awk '/^encode_class_s/ {print $2}' "$work/$t.log")
      enc_d=$(awk '/^encode_dndvi_s/ {print $2}' "$work/$t.log")
      floor_parts+=("$read_s+$enc_c+$enc_d")
    elif [[ $t == gdal_calc ]]; then
      calc_parts+=("$parts")
    fi
    walls[$t]+="$wall "
    rss[$t]+="$peak "
    log "rep $rep/$reps $t: ${wall} s, peak RSS $((peak / 1024)) MB"
  done
done

# ---- check that the outputs agree (gdal_calc's are the reference) ----------------------------------
agreement=""
class_hist=""
ref=$(out_of gdal_calc)
if [[ -f "$ref/change_class.tif" && -f "$ref/dndvi.tif" && -z ${fails[gdal_calc]:-} ]]; then
  class_hist=$("$py" - "$ref/change_class.tif" <<'EOF'
import sys
import numpy as np
from osgeo import gdal
gdal.UseExceptions()
c = gdal.Open(sys.argv[1]).ReadAsArray()
counts = np.bincount(c.ravel(), minlength=256)
names = {0: "no data", 1: "stable bare", 2: "revegetated", 3: "partial recovery", 4: "stable vegetation",
         5: "vegetation loss", 6: "water", 255: "unclassified"}
print(", ".join(f"{v} {names.get(v, '?')} {100.0 * counts[v] / c.size:.2f} %" for v in range(256) if counts[v]))
EOF
)
  for t in reclaim io_floor; do
    f=$(out_of "$t")
    [[ -f "$f/change_class.tif" && -f "$f/dndvi.tif" && -z ${fails[$t]:-} ]] || continue
    agreement+=$("$py" - "$ref" "$f" "$t" <<'EOF'
import sys
import numpy as np
from osgeo import gdal
gdal.UseExceptions()
ref, out, tool = sys.argv[1:]
ca = gdal.Open(f"{ref}/change_class.tif").ReadAsArray()
cb = gdal.Open(f"{out}/change_class.tif").ReadAsArray()
if ca.shape != cb.shape:
    print(f"| {tool} | class shape {cb.shape} vs {ca.shape} | | | | |")
    sys.exit()
class_diff = int(np.count_nonzero(ca != cb))
class_same = 100.0 * (ca.size - class_diff) / ca.size
del ca, cb
a = gdal.Open(f"{ref}/dndvi.tif").ReadAsArray().astype(np.float32)
b = gdal.Open(f"{out}/dndvi.tif").ReadAsArray().astype(np.float32)
na, nb = np.isnan(a), np.isnan(b)
both = ~na & ~nb
same = np.count_nonzero(both & (a.view(np.uint32) == b.view(np.uint32))) + np.count_nonzero(na & nb)
diff = float(np.max(np.abs(a[both] - b[both]))) if both.any() else 0.0
print(f"| {tool} | {class_same:.4f} % | {class_diff} | {np.count_nonzero(na != nb)} | {diff:.3g} | "
      f"{100.0 * same / a.size:.4f} % |")
EOF
)$'\n'
    row=$(tail -1 <<<"${agreement%$'\n'}")
    read -r c_mis d_nan d_max < <(awk -F'|' '{gsub(/ /, ""); print $4, $5, $6}' <<<"$row")
    agree_check "$t vs gdal_calc" "$(awk -v c="$c_mis" -v n="$d_nan" -v d="$d_max" -v tol="$dndvi_tolerance" \
      'BEGIN {print (c == "0" && n == "0" && d != "" && d + 0 <= tol + 0) ? 1 : 0}')" \
      "class mismatches $c_mis, dNDVI NaN mismatches $d_nan, dNDVI max abs diff $d_max"
  done
fi
verdict=$(agreement_verdict)
sizes=""
for t in "${tools[@]}"; do
  o=$(out_of "$t")
  [[ -f "$o/change_class.tif" && -f "$o/dndvi.tif" ]] || continue
  sizes+="${sizes:+; }$t $(awk -v a="$(stat -c %s "$o/change_class.tif")" -v b="$(stat -c %s "$o/dndvi.tif")" \
    'BEGIN {printf "%.1f MB + %.1f MB", a / 1048576, b / 1048576}')"
done

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
  peak=$(($(echo "${rss[$t]}" | maxof) / 1024))
  ratio="n/a"
  [[ -n $ref_med ]] && ratio=$(awk -v a="$med" -v b="$ref_med" 'BEGIN {printf "%.2f", a / b}')
  label=$t
  [[ $t == gdal_calc ]] && label="gdal_calc (class call + dNDVI call)"
  [[ $t == io_floor ]] && { label="io_floor (read+decode + encode+write)"; peak="(holds both scenes)"; }
  table+="| $label | $(printf '%.2f' "$med") | $peak | $ratio |"$'\n'
done
for t in "${tools[@]}"; do suite_tool "" "$t" "${walls[$t]:-}" "${rss[$t]:-}" "${fails[$t]:-}"; done
if [[ $verdict == differs ]]; then
  table="**The outputs did not agree within the stated tolerance ($tolerance_text): no time is reported.**"$'\n'
fi

machine_facts  # cpu_model, mem_gb, ncpu, tag (lib.sh)
gdal_version=$(gdalinfo --version 2>/dev/null || "$py" -c 'from osgeo import gdal; print(gdal.__version__)')
numpy_version=$("$py" -c 'import numpy; print(numpy.__version__)')
if [[ -n ${RESULTS_FILE:-} ]]; then
  results=$RESULTS_FILE
elif ((have_reclaim)); then
  results="$repo/bench/results/change-e2e-$tag.md"
else
  results="$work/change-e2e-$tag-peers-only.md"
fi
mkdir -p "$(dirname "$results")"

{
  echo "# End-to-end two-epoch change: reclaim vs gdal_calc.py ($tag)"
  echo
  echo "Produced by \`bench/peers/compare_change.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
  echo
  echo "- CPU: $cpu_model, $ncpu logical cores; RAM: $mem_gb GiB"
  echo "- $gdal_version; numpy $numpy_version (gdal_calc.py runs on /usr/bin/python3)"
  echo "- scenes: $scene_facts"
  echo "- products: change class (Byte, nodata 0) and dNDVI (Float32, NaN nodata), default rules of docs/change.md"
  echo "- $reps runs per tool, interleaved, warm page cache; median wall time; peak RSS = largest over runs"
  if [[ ${#calc_parts[@]} -gt 0 ]]; then echo "- gdal_calc runs (class call s + dNDVI call s): ${calc_parts[*]}"; fi
  if [[ ${#floor_parts[@]} -gt 0 ]]; then
    echo "- io_floor runs (read+decode s + encode class s + encode dNDVI s): ${floor_parts[*]}"
  fi
  [[ -n $sizes ]] && echo "- output sizes (class + dNDVI): $sizes"
  for note in "${notes[@]}"; do echo "- $note"; done
  echo
  echo "$table"
  if [[ -n $agreement ]]; then
    echo "Agreement with gdal_calc's products (float64 numpy, computed independently of reclaim):"
    echo "$verdict; tolerance: $tolerance_text."
    echo
    echo "| tool | class identical | class mismatches | dNDVI NaN mismatches | dNDVI max abs diff | dNDVI bit-identical |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: |"
    echo -n "$agreement"
    echo
    [[ -n $class_hist ]] && { echo "Class shares (gdal_calc's raster): $class_hist"; echo; }
  fi
  echo "How the gdal_calc version is chained: two gdal_calc.py calls. The class call takes the twelve"
  echo "input bands (B02 B03 B04 B08 B11 SCL of each epoch) as A..L and evaluates one expression per"
  echo "512 x 512 block: float64 reflectances, NDVI/BSI/MNDWI of both epochs, then the rule table with"
  echo "numpy.select. The dNDVI call takes B04 B08 SCL of each epoch. Per-epoch Float32 intermediates"
  echo "(NDVI, BSI, MNDWI written and read back) would add six encodes and decodes: slower, not chosen."
  echo
  echo "Commands (each run starts from an empty output folder):"
  echo
  echo '```sh'
  for t in "${tools[@]}"; do
    printf '%s\n' "# $t"
    for step in $(steps_of "$t"); do
      command_of "$step"
      shell_words "${cmd[@]}"
    done
  done
  echo '```'
} >"$results"

echo
echo "$table"
[[ -n $agreement ]] && {
  echo "| vs gdal_calc | class identical | class mismatches | dNDVI NaN mismatches | dNDVI max abs diff | dNDVI bit-identical |"
  echo -n "$agreement"
}
[[ -n $class_hist ]] && echo "classes: $class_hist"
suite_write change "$tolerance_text" "$scene_facts" "$results" ""
log "results: $results"
[[ $verdict != differs ]]
