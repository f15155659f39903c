#!/usr/bin/env bash
# The whole rehabilitation assessment end to end on the 10980 x 10980 Sentinel-2-like pair with
# 300 sites, side by side in one run:
#
#   reclaim     reclaim assess --before 2019.tif --after 2025.tif --sites sites-300.gpkg
#               --id-field site_id --quiet (defaults: exact coverage, pictures, report): change
#               class, dNDVI and NDVI of both epochs as COGs, per-site metrics (sites.csv,
#               sites.gpkg), summary.json, pictures, report.html, manifest.json with checksums
#   io_floor    bench/peers/change_io_floor --read-only: GDAL read+decode (ReadBlock) of every
#               band the pass reads (B02 B03 B04 B08 B11 SCL), both epochs, block by block in
#               reclaim's order, with reclaim's reader thread count (--readers, default 2); no
#               compute, no writing. Its own timing (floor_s) is the floor
#   reclaim_no_pictures
#               the same with --no-pictures: the pictures' share of the default run
#   reclaim_no_rasters
#               the same with --no-rasters: tables, pictures, report and manifest, no COG (reads
#               only the tiles near the sites)
#   rasterio    bench/peers/assess_rasterio.py: the faithful replica, one rasterio + numpy script,
#               512 x 512 windows, the same calibration, indices and default rules, four tiled
#               DEFLATE GeoTIFFs, then every column of sites.csv (pixel-centre rasterize per site)
#   user_script bench/peers/assess_user_script.py: the script as a user writes it: whole bands in
#               memory, float32, the four rasters with rasterio (DEFLATE), per-site dNDVI mean and
#               median with rasterstats
#   cli_chain   bench/peers/assess_cli_chain.sh: five gdal_calc.py calls (NDVI before, NDVI
#               after, dNDVI, classes, vegetation state) then exactextract (Python package) for
#               the per-site statistics
#
# reclaim and the floor run REPS times, the two peers REPS_SLOW times, interleaved (order rotated
# each rep), on a warm page cache; the table gives the median wall time of the whole process and
# the largest peak RSS (bench/peers/measure.py). Afterwards, untimed: reclaim once more with
# --coverage center, and agreement per site: the rasterio script vs reclaim center (both pixel-
# centre), the CLI chain (exactextract, exact fractions) vs reclaim exact; and the rasters:
# each peer's class raster and NDVI vs reclaim's. Markdown: bench/results/assess-e2e-<machine>.md.
#
# Environment:
#   RECLAIM_BIN   the CLI (default build/reclaim)
#   PY            Python with numpy, GDAL (osgeo), exactextract and rasterio (default .venv/bin/python;
#                 rasterio==1.4.4 with affine<3 is installed there when missing)
#   WORK_DIR      caches and outputs (default /tmp/reclaim-bench)
#   SCENE_DIR     the pair: 2019.tif (before), 2025.tif (after) and sites.gpkg (default
#                 WORK_DIR/synth-10980, made by `reclaim synth --width 10980 --height 10980` if missing)
#   SITES         the site layer, in the scenes' CRS (the peers do not reproject). Default: the
#                 first N_SITES (300) sites of SCENE_DIR/sites.gpkg, reprojected by
#                 bench/peers/zonal_make_sites.py (WORK_DIR/zonal/sites-300.gpkg for the default scene)
#   BOA_OFFSET    BOA_ADD_OFFSET of both scenes (default 0, as `reclaim synth` writes)
#   REPS          runs of reclaim and the floor (default 3); REPS_SLOW of the peers (default 1)
#   TOOLS         subset (default: reclaim reclaim_no_pictures reclaim_no_rasters io_floor rasterio user_script
#                 cli_chain)
#   FLOOR_BIN     change_io_floor binary (default: compiled from change_io_floor.cpp into WORK_DIR)
#   BASELINE_BIN  another reclaim build (e.g. the previous commit's) run side by side as
#                 reclaim_baseline, REPS times; its rasters and sites.csv must be identical and its
#                 time no lower than 0.95 x this build's
#   RESULTS_FILE  where the markdown goes (default bench/results/assess-e2e-<machine>.md; a
#                 SCENE_DIR other than the default sends it to WORK_DIR/assess instead)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$repo/bench/peers"
# shellcheck source=bench/peers/lib.sh
source "$here/lib.sh"
py=${PY:-$repo/.venv/bin/python}
reclaim_bin=${RECLAIM_BIN:-$repo/build/reclaim}
work=${WORK_DIR:-/tmp/reclaim-bench}
size=${SIZE:-10980}
default_scene_dir="$work/synth-$size"
scene_dir=${SCENE_DIR:-$default_scene_dir}
n_sites=${N_SITES:-300}
boa=${BOA_OFFSET:-0}
reps=${REPS:-3}
reps_slow=${REPS_SLOW:-1}
readers=${READERS:-2}
read -r -a tools_wanted <<<"${TOOLS:-reclaim reclaim_no_pictures reclaim_no_rasters io_floor rasterio user_script cli_chain}"
baseline_bin=${BASELINE_BIN:-}
adir="$work/assess"
mkdir -p "$adir"

log() { printf 'compare_assess: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
machine_facts

[[ -x "$reclaim_bin" ]] || die "reclaim not found at $reclaim_bin (set RECLAIM_BIN)"
reclaim_bin=$(realpath "$reclaim_bin")
if [[ -n $baseline_bin ]]; then
  [[ -x $baseline_bin ]] || die "BASELINE_BIN $baseline_bin is not executable"
  baseline_bin=$(realpath "$baseline_bin")
fi
"$py" -c 'import numpy, exactextract; from osgeo import gdal' 2>/dev/null || die "$py needs numpy, GDAL and exactextract"
command -v gdal_calc.py >/dev/null 2>&1 || die "gdal_calc.py not found (gdal-bin)"
have_rio=1
ensure_rasterio "$py" || { have_rio=0; log "rasterio missing in $py: skipping the rasterio script"; }

# ---- scenes and sites ------------------------------------------------------------------------------
feature_count() {  # the data source must outlive its layer (OGR's Python bindings crash otherwise)
  "$py" -c 'import sys; from osgeo import ogr; ds = ogr.Open(sys.argv[1]); print(ds.GetLayer(0).GetFeatureCount())' "$1"
}
before="$scene_dir/2019.tif"
after="$scene_dir/2025.tif"
if [[ ! -f "$before" || ! -f "$after" ]]; then
  [[ $scene_dir == "$default_scene_dir" ]] || die "$scene_dir has no 2019.tif and 2025.tif"
  log "generating the $size x $size pair in $scene_dir (once; cached)"
  "$reclaim_bin" synth --out "$scene_dir" --width "$size" --height "$size" >&2
fi
if [[ -n ${SITES:-} ]]; then
  sites=$SITES
  sites_note="$sites (given)"
else
  avail=$(feature_count "$scene_dir/sites.gpkg")
  ((avail < n_sites)) && n_sites=$avail
  if [[ $scene_dir == "$default_scene_dir" ]]; then sdir="$work/zonal-$size"; else sdir="$adir/sites-$(basename "$scene_dir")"; fi
  sites="$sdir/sites-$n_sites.gpkg"
  if [[ ! -f "$sites" || "$scene_dir/sites.gpkg" -nt "$sites" ]]; then
    log "making $sites (first $n_sites sites, in the scenes' CRS; cached)"
    mkdir -p "$sdir"
    "$py" "$here/zonal_make_sites.py" --raster "$before" --sites "$scene_dir/sites.gpkg" --real "$n_sites" \
      --random 0 --out-dir "$sdir" >&2
    rm -f "$sdir/random-0.gpkg"
  fi
  sites_note="$sites: the first $n_sites sites of $scene_dir/sites.gpkg reprojected to the scenes' CRS by bench/peers/zonal_make_sites.py"
fi
before=$(realpath "$before")
after=$(realpath "$after")
sites=$(realpath "$sites")
n_features=$(feature_count "$sites")
scene_facts=$("$py" - "$before" "$after" <<'EOF'
import os, sys
from osgeo import gdal
gdal.UseExceptions()
ds = [gdal.Open(p) for p in sys.argv[1:]]
b = ds[0].GetRasterBand(3)
md = ds[0].GetMetadata("IMAGE_STRUCTURE")
mb = sum(os.path.getsize(p) for p in sys.argv[1:]) / 1048576
print(f"2 epochs, each {ds[0].RasterXSize} x {ds[0].RasterYSize}, {ds[0].RasterCount} bands "
      f"{gdal.GetDataTypeName(b.DataType)}, blocks {b.GetBlockSize()[0]} x {b.GetBlockSize()[1]}, "
      f"{md.get('COMPRESSION', 'uncompressed')}, interleave {md.get('INTERLEAVE', '?')}, {mb:.0f} MB on disk together")
EOF
)
log "scenes: $scene_facts; sites: $n_features in $sites"

# ---- the floor --------------------------------------------------------------------------------------
floor_bin=""
if [[ " ${tools_wanted[*]} " == *" io_floor "* ]]; then
  if [[ -n ${FLOOR_BIN:-} ]]; then
    floor_bin=$(realpath "$FLOOR_BIN")
  else
    floor_bin="$work/change_io_floor"
    build_change_io_floor "$here/change_io_floor.cpp" "$floor_bin" || die "could not compile change_io_floor (needs libgdal-dev)"
  fi
fi

tools=()
for t in "${tools_wanted[@]}"; do
  case $t in
    reclaim|reclaim_no_pictures|reclaim_no_rasters|cli_chain) tools+=("$t") ;;
    io_floor) [[ -n $floor_bin ]] && tools+=("$t") ;;
    rasterio) ((have_rio)) && tools+=("$t") ;;
    user_script)
      if ((have_rio)) && "$py" -c 'import rasterstats' 2>/dev/null; then tools+=("$t")
      else log "rasterstats missing in $py (bench/setup.sh installs it): skipping user_script"; fi ;;
    *) die "unknown tool $t (TOOLS: reclaim reclaim_no_pictures reclaim_no_rasters io_floor rasterio user_script cli_chain)" ;;
  esac
done
if [[ -n $baseline_bin ]]; then tools+=(reclaim_baseline); fi
reps_of() { case $1 in reclaim|reclaim_no_*|reclaim_baseline|io_floor) echo "$reps" ;; *) echo "$reps_slow" ;; esac; }

out_of() { echo "$adir/out-$1"; }
command_of() {  # TOOL -> cmd array
  local o; o=$(out_of "$1")
  case $1 in
    reclaim) cmd=("$reclaim_bin" assess --before "$before" --after "$after" --sites "$sites" --id-field site_id
                  --boa-offset "$boa" --out "$o" --quiet) ;;
    reclaim_baseline) command_of reclaim; cmd[0]=$baseline_bin; cmd[${#cmd[@]} - 2]=$o ;;
    reclaim_no_pictures) cmd=("$reclaim_bin" assess --before "$before" --after "$after" --sites "$sites" --id-field site_id
                              --boa-offset "$boa" --no-pictures --out "$o" --quiet) ;;
    reclaim_no_rasters) cmd=("$reclaim_bin" assess --before "$before" --after "$after" --sites "$sites" --id-field site_id
                             --boa-offset "$boa" --no-rasters --out "$o" --quiet) ;;
    user_script) cmd=("$py" "$here/assess_user_script.py" --before "$before" --after "$after" --sites "$sites"
                      --id-field site_id --boa-offset "$boa" --out "$o") ;;
    reclaim_center) cmd=("$reclaim_bin" assess --before "$before" --after "$after" --sites "$sites" --id-field site_id
                         --boa-offset "$boa" --coverage center --no-pictures --out "$o" --quiet) ;;
    io_floor) cmd=("$floor_bin" --before "$before" --after "$after" --bands "1,2,3,4,5,7" --threads "$readers" --read-only) ;;
    rasterio) cmd=("$py" "$here/assess_rasterio.py" --before "$before" --after "$after" --sites "$sites"
                   --id-field site_id --boa-offset "$boa" --out "$o") ;;
    cli_chain) cmd=(env PY="$py" bash "$here/assess_cli_chain.sh" --before "$before" --after "$after" --sites "$sites"
                    --id-field site_id --boa-offset "$boa" --out "$o") ;;
  esac
}

log "warming the page cache with both scenes"
cat "$before" "$after" "$sites" >/dev/null

# ---- run: interleaved, order rotated each rep ------------------------------------------------------
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A walls rss fails phases
max_reps=$reps
((reps_slow > max_reps)) && max_reps=$reps_slow
n=${#tools[@]}
for ((rep = 1; rep <= max_reps; ++rep)); do
  for ((j = 0; j < n; ++j)); do
    t=${tools[$(((j + rep - 1) % n))]}
    ((rep <= $(reps_of "$t"))) || continue
    rm -rf "$(out_of "$t")"
    command_of "$t"
    peers_measure "$adir/$t.log" "${cmd[@]}"
    if [[ $m_rc -ne 0 ]]; then
      fails[$t]="rc=$m_rc, see $adir/$t.log"
      log "rep $rep $t failed (rc=$m_rc): $(tail -3 "$adir/$t.log" | tr '\n' ' ')"
      continue
    fi
    wall=$m_wall_s
    case $t in
      io_floor) wall=$(awk '/^floor_s/ {print $2}' "$adir/$t.log"); phases[$t]+="${phases[$t]:+; }process $m_wall_s s" ;;
      rasterio) phases[$t]+="${phases[$t]:+; }$(awk '/^phase/ {printf "%s%s %s s", sep, $2, $3; sep = " + "}' "$adir/$t.log")" ;;
      cli_chain) phases[$t]+="${phases[$t]:+; }$(awk '/^step/ {printf "%s%s %s s", sep, $2, $3; sep = " + "}' "$adir/$t.log")" ;;
    esac
    walls[$t]+="$wall "
    rss[$t]+="$m_max_rss_kb "
    log "rep $rep $t: $wall s, peak RSS $((m_max_rss_kb / 1024)) MB"
  done
done

load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- agreement (untimed) -----------------------------------------------------------------------------
agreement=""
if [[ -z ${fails[reclaim]:-} && " ${tools[*]} " == *" reclaim "* ]]; then
  log "reclaim --coverage center for the agreement check (untimed)"
  rm -rf "$(out_of reclaim_center)"
  command_of reclaim_center
  "${cmd[@]}" >"$adir/reclaim_center.log" 2>&1 || die "reclaim center failed: see $adir/reclaim_center.log"
  pairs=()
  ran() { [[ " ${tools[*]} " == *" $1 "* && -z ${fails[$1]:-} && -f "$(out_of "$1")/sites.csv" ]]; }
  ran rasterio && pairs+=("rasterio vs reclaim --coverage center|$(out_of reclaim_center)|$(out_of rasterio)|2019_ndvi.tif|2025_ndvi.tif")
  ran cli_chain && pairs+=("cli_chain vs reclaim (exact)|$(out_of reclaim)|$(out_of cli_chain)|ndvi_before.tif|ndvi_after.tif")
  for p in "${pairs[@]}"; do
    IFS='|' read -r label ref peer nb na <<<"$p"
    agreement+=$("$py" - "$label" "$ref" "$peer" "$nb" "$na" <<'EOF'
import csv, math, os, sys
import numpy as np
from osgeo import gdal
gdal.UseExceptions()
label, ref, peer, nb, na = sys.argv[1:]
read = lambda d: {r["site_id"]: r for r in csv.DictReader(open(os.path.join(d, "sites.csv")))}
a, b = read(ref), read(peer)
num = lambda s: float(s) if s not in ("", None) else math.nan
groups = [("class hectares (7 classes + no data)", ["still_bare_ha", "revegetated_ha", "partial_recovery_ha",
           "stable_vegetation_ha", "newly_disturbed_ha", "water_ha", "unclassified_ha", "no_data_ha"], "ha"),
          ("site area", ["area_ha"], "ha"),
          ("vegetation cover before/after", ["cover_before_pct", "cover_after_pct"], "pp"),
          ("NDVI mean before/after", ["ndvi_before_mean", "ndvi_after_mean"], ""),
          ("NDVI median before/after (reclaim's is binned)", ["ndvi_before_median", "ndvi_after_median"], ""),
          ("NDVI median, sites with >= 100 clear pixels", ["ndvi_before_median", "ndvi_after_median"], ""),
          ("dNDVI mean", ["dndvi_mean"], "")]
gt = gdal.Open(os.path.join(ref, "change_class.tif")).GetGeoTransform()
pixel_ha = abs(gt[1] * gt[5]) / 1e4
clear_px = lambda r: num(r["area_ha"]) * num(r["valid_fraction"]) / pixel_ha
# Tolerances (None: shown, not checked: a binned median of a few partly covered pixels is not
# comparable with an exact one). NaN patterns must be equal everywhere. The CLI chain computes
# dNDVI from its two float32 NDVI files and exactextract weighs by float32 coverage fractions,
# so its means may differ by a float32 step at 1 (1.2e-7); the replica is float64 throughout.
mean_tol = 1.2e-7 if label.startswith("cli_chain") else 1e-8
tolerance = {"class hectares (7 classes + no data)": 1e-6, "site area": 1e-6, "vegetation cover before/after": 1e-5,
             "NDVI mean before/after": mean_tol, "NDVI median, sites with >= 100 clear pixels": 0.005,
             "dNDVI mean": mean_tol}
outside = []
rows = []
missing = sorted(set(a) ^ set(b))
for name, cols, unit in groups:
    worst, where, nan_mismatch = 0.0, "", 0
    for s in sorted(set(a) & set(b)):
        if ">= 100 clear" in name and not min(clear_px(a[s]), clear_px(b[s])) >= 100:
            continue
        for c in cols:
            x, y = num(a[s][c]), num(b[s][c])
            if math.isnan(x) or math.isnan(y):
                nan_mismatch += math.isnan(x) != math.isnan(y)
                continue
            if abs(x - y) > worst:
                worst, where = abs(x - y), f"{s} {c}: {x:.6g} vs {y:.6g}"
    rows.append(f"| {label} | {name} | {worst:.3g} {unit} | {nan_mismatch} | {where} |")
    if nan_mismatch or (tolerance.get(name) is not None and worst > tolerance[name]):
        outside.append(f"{name} {worst:.3g} (tolerance {tolerance.get(name)}), NaN mismatches {nan_mismatch}")
# the rasters
def cmp(fa, fb, kind):
    A = gdal.Open(os.path.join(ref, fa)).ReadAsArray()
    B = gdal.Open(os.path.join(peer, fb)).ReadAsArray()
    if kind == "class":
        d = int(np.count_nonzero(A != B))
        if d:
            outside.append(f"change_class.tif: {d} pixels differ")
        return f"| {label} | raster change_class.tif | {d} pixels differ ({100.0 * d / A.size:.4f} %) | | |"
    na_, nb_ = np.isnan(A), np.isnan(B)
    both = ~na_ & ~nb_
    same = np.count_nonzero(both & (A.view(np.uint32) == B.view(np.uint32))) + np.count_nonzero(na_ & nb_)
    diff = float(np.max(np.abs(A[both] - B[both]))) if both.any() else 0.0
    if diff > 2.4e-7 or np.count_nonzero(na_ != nb_):
        outside.append(f"{fb}: max abs diff {diff:.3g} (tolerance 2.4e-7), NaN mismatches {int(np.count_nonzero(na_ != nb_))}")
    return (f"| {label} | raster {fb} | max abs diff {diff:.3g}, {100.0 * same / A.size:.4f} % bit-identical | "
            f"{int(np.count_nonzero(na_ != nb_))} | |")
labels_b = [f for f in os.listdir(ref) if f.endswith("_ndvi.tif")]
ref_nb, ref_na = sorted(labels_b)[0], sorted(labels_b)[-1]
rows.append(cmp("change_class.tif", "change_class.tif", "class"))
rows.append(cmp(ref_nb, nb, "float"))
rows.append(cmp(ref_na, na, "float"))
rows.append(cmp("dndvi.tif", "dndvi.tif", "float"))
if missing:
    rows.append(f"| {label} | sites in one table only | {len(missing)} | | {', '.join(missing[:5])} |")
    outside.append(f"{len(missing)} sites in one table only")
print("\n".join(rows))
print(f"VERDICT {'; '.join(outside) if outside else 'every per-site quantity and raster compared'}")
EOF
)$'\n'
    v=$(grep '^VERDICT ' <<<"$agreement" | tail -1)
    agreement=$(grep -v '^VERDICT ' <<<"$agreement")$'\n'
    agree_check "$label" "$([[ $v == "VERDICT every per-site quantity and raster compared" ]] && echo 1 || echo 0)" "${v#VERDICT }"
  done
  if ran user_script; then
    rows=$("$py" - "$(out_of reclaim_center)" "$(out_of user_script)" "$before" "$after" "$boa" <<'EOF'
import csv, math, os, sys
import numpy as np
from osgeo import gdal
gdal.UseExceptions()
ref, peer, before, after, boa = sys.argv[1:]
label = "user_script vs reclaim --coverage center"
outside, rows = [], []


def near_a_threshold(where):
    """For the pixels `where` (row, col arrays): the float64 rule quantities of docs/change.md
    from the scenes, and their distance to the nearest threshold a rule compares them with."""
    q = {}
    for key, path in (("0", before), ("1", after)):
        ds = gdal.Open(path)
        dn = {b: ds.GetRasterBand(b).ReadAsArray()[where].astype(np.float64) for b in (1, 2, 3, 4, 5, 7)}
        bad = np.isin(dn[7], [3, 8, 9, 10])
        rho = {b: np.where(bad | (dn[b] == 0) | (dn[b] >= 65535), np.nan, (dn[b] + float(boa)) * 1e-4) for b in range(1, 6)}
        nd = lambda p, r: (p - r) / (p + r)
        q["v" + key] = nd(rho[4], rho[3])
        q["x" + key] = nd(rho[5] + rho[3], rho[4] + rho[1])
        q["m" + key] = nd(rho[2], rho[5])
    d = q["v1"] - q["v0"]
    dist = [np.abs(q[v] - t) for v in ("v0", "v1") for t in (0.2, 0.4)]
    dist += [np.abs(q[k]) for k in ("x0", "x1", "m0", "m1")] + [np.abs(d + 0.15), np.abs(d - 0.15)]
    return np.nanmin(np.vstack(dist), axis=0)


# Float32 arithmetic against reclaim's: a pixel whose rule quantity (NDVI, BSI, MNDWI, dNDVI) lies
# within float32 rounding (1e-5) of a threshold may take the other class; values within 1e-6.
for name in sorted(f for f in os.listdir(ref) if f.endswith(".tif")):
    A = gdal.Open(os.path.join(ref, name)).ReadAsArray()
    B = gdal.Open(os.path.join(peer, name)).ReadAsArray()
    if name == "change_class.tif":
        where = np.nonzero(A != B)
        d = int(where[0].size)
        far = int(np.count_nonzero(near_a_threshold(where) > 1e-5)) if d else 0
        rows.append(f"| {label} | raster {name} | {d} pixels differ ({100.0 * d / A.size:.4f} %), "
                    f"{far} of them farther than 1e-5 from a rule threshold | | |")
        if far:
            outside.append(f"{name}: {far} of the {d} differing pixels are not at a rule threshold")
        continue
    na, nb = np.isnan(A), np.isnan(B)
    both = ~na & ~nb
    diff = float(np.max(np.abs(A[both].astype(np.float64) - B[both]))) if both.any() else 0.0
    nan_mis = int(np.count_nonzero(na != nb))
    rows.append(f"| {label} | raster {name} | max abs diff {diff:.3g} | {nan_mis} | |")
    if diff > 1e-6 or nan_mis:
        outside.append(f"{name}: max abs diff {diff:.3g} (tolerance 1e-6), NaN mismatches {nan_mis}")
read = lambda d: {r["site_id"]: r for r in csv.DictReader(open(os.path.join(d, "sites.csv")))}
a, b = read(ref), read(peer)
num = lambda s: float(s) if s not in ("", None) else math.nan
worst, where, nan_mis = 0.0, "", 0
for s in sorted(set(a) & set(b)):
    x, y = num(a[s]["dndvi_mean"]), num(b[s]["dndvi_mean"])
    if math.isnan(x) or math.isnan(y):
        nan_mis += math.isnan(x) != math.isnan(y)
    elif abs(x - y) > worst:
        worst, where = abs(x - y), f"{s}: {x:.6g} vs {y:.6g}"
rows.append(f"| {label} | dNDVI mean (rasterstats) | {worst:.3g} | {nan_mis} | {where} |")
if worst > 1e-5 or nan_mis or set(a) != set(b):
    outside.append(f"dNDVI mean {worst:.3g} (tolerance 1e-5), NaN mismatches {nan_mis}, {len(set(a) ^ set(b))} sites in one table only")
print("\n".join(rows))
print(f"VERDICT {'; '.join(outside) if outside else 'every per-site quantity and raster compared'}")
EOF
)
    v=$(grep '^VERDICT ' <<<"$rows" | tail -1)
    agreement+=$(grep -v '^VERDICT ' <<<"$rows")$'\n'
    agree_check "user_script vs reclaim --coverage center" \
      "$([[ $v == "VERDICT every per-site quantity and raster compared" ]] && echo 1 || echo 0)" "${v#VERDICT }"
  fi
fi
verdict=$(agreement_verdict)
tolerance_text="per site: class and site hectares <= 1e-6 ha, cover <= 1e-5 pp, NDVI and dNDVI means <= 1e-8 (the CLI chain's, from float32 NDVI files and float32 coverage fractions: 1.2e-7), NDVI medians of sites with >= 100 clear pixels <= 0.005 (reclaim's is binned); NaN patterns equal; class raster identical; NDVI and dNDVI rasters within 2.4e-7. The user's float32 script: dNDVI means 1e-5, rasters 1e-6, class pixels differ only where a rule quantity lies within 1e-5 of its threshold"

# ---- table, floors, markdown -------------------------------------------------------------------------
declare -A med peak
for t in "${tools[@]}"; do
  med[$t]=$(echo "${walls[$t]:-}" | median)
  peak[$t]=""
  [[ -n ${rss[$t]:-} ]] && peak[$t]=$(($(echo "${rss[$t]}" | maxof) / 1024))
done
label_of() {
  case $1 in
    reclaim) echo "reclaim assess (exact coverage, pictures, report)" ;;
    reclaim_baseline) echo "the same, baseline build" ;;
    io_floor) echo "io_floor (read+decode only, $readers threads)" ;;
    reclaim_no_pictures) echo "reclaim assess --no-pictures" ;;
    reclaim_no_rasters) echo "reclaim assess --no-rasters (tables, pictures, report)" ;;
    rasterio) echo "rasterio + numpy script, the faithful replica" ;;
    user_script) echo "rasterio + numpy + rasterstats, as a user writes it" ;;
    cli_chain) echo "CLI chain (5 x gdal_calc.py + exactextract)" ;;
  esac
}
table="| tool | runs (s) | median s | peak RSS MB | ratio vs reclaim |"$'\n'"| --- | --- | ---: | ---: | ---: |"$'\n'
for t in "${tools[@]}"; do
  if [[ -z ${walls[$t]:-} ]]; then table+="| $(label_of "$t") | failed (${fails[$t]:-not run}) | | | |"$'\n'; continue; fi
  table+="| $(label_of "$t") | ${walls[$t]% } | $(printf '%.2f' "${med[$t]}") | ${peak[$t]} | $(ratio "${med[$t]}" "${med[reclaim]:-}") |"$'\n'
done

floors=""
floors+=$(floor_check "reclaim / io floor (read+decode)" "$(ratio "${med[reclaim]:-}" "${med[io_floor]:-}")" "<=" 1.6)$'\n'
floors+=$(floor_check "user's script / reclaim (issue 13)" "$(ratio "${med[user_script]:-}" "${med[reclaim]:-}")" ">=" 1.5)$'\n'
floors+=$(floor_check "faithful replica / reclaim (the issue's floor, against the faster script)" "$(ratio "${med[rasterio]:-}" "${med[reclaim]:-}")" ">=" 1.5)$'\n'
pic_share=$(awk -v a="${med[reclaim]:-}" -v b="${med[reclaim_no_pictures]:-}" \
  'BEGIN {if (a == "" || b == "" || a + 0 == 0) print "n/a"; else printf "%.1f", 100 * (a - b) / a}')
floors+=$(floor_check "pictures' share of the default run (%, issue 13)" "$pic_share" "<=" 10)$'\n'
floors+=$(floor_check "reclaim --no-rasters / io floor (read+decode, issue 13)" "$(ratio "${med[reclaim_no_rasters]:-}" "${med[io_floor]:-}")" "<=" 1.6)$'\n'
floors+=$(floor_check "CLI chain / reclaim" "$(ratio "${med[cli_chain]:-}" "${med[reclaim]:-}")" ">=" 10)$'\n'
if [[ -n $baseline_bin ]]; then
  floors+=$(floor_check "baseline build / this build" "$(ratio "${med[reclaim_baseline]:-}" "${med[reclaim]:-}")" ">=" 0.95)$'\n'
  same=$("$py" "$here/same_outputs.py" "$(out_of reclaim)" "$(out_of reclaim_baseline)")
  agreement+="| this build vs the baseline build | outputs | $same | | |"$'\n'
  agree_check "this build vs the baseline build" "$([[ $same == identical* ]] && echo 1 || echo 0)" "$same"
  verdict=$(agreement_verdict)
fi
rss_gb=""
[[ -n ${peak[reclaim]:-} ]] && rss_gb=$(awk -v kb="$(echo "${rss[reclaim]}" | maxof)" 'BEGIN {printf "%.3f", kb * 1024 / 1e9}')
floors+=$(floor_check "reclaim peak RSS, GB (10^9 bytes)" "$rss_gb" "<" 1.5)$'\n'

for t in "${tools[@]}"; do suite_tool "" "$t" "${walls[$t]:-}" "${rss[$t]:-}" "${fails[$t]:-}"; done
if [[ $verdict == differs ]]; then
  table="**The outputs did not agree within the stated tolerance: no time is reported.**"$'\n'
  floors=""
fi

versions=$("$py" - <<'PYEOF'
from osgeo import gdal
import numpy, importlib.metadata as md
parts = [f"GDAL {gdal.__version__} (reclaim, gdal_calc.py, the floor)", f"numpy {numpy.__version__} (venv)",
         f"exactextract {md.version('exactextract')}"]
try:
    import rasterio
    parts.append(f"rasterio {rasterio.__version__} (its wheel's own GDAL {rasterio.__gdal_version__})")
except ImportError:
    pass
print(", ".join(parts))
PYEOF
)
sys_numpy=$(/usr/bin/python3 -c 'import numpy; print(numpy.__version__)' 2>/dev/null || echo "?")
reclaim_version=$("$reclaim_bin" --version 2>/dev/null | head -1 || true)
if [[ -n ${RESULTS_FILE:-} ]]; then
  results=$RESULTS_FILE
elif [[ $scene_dir == "$default_scene_dir" ]]; then
  results="$repo/bench/results/assess-e2e-$tag.md"
else
  results="$adir/assess-e2e-$tag-$(basename "$scene_dir").md"
fi
mkdir -p "$(dirname "$results")"
{
  echo "# Rehabilitation assessment end to end: reclaim assess vs a rasterio script vs a CLI chain ($tag)"
  echo
  echo "Produced by \`bench/peers/compare_assess.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
  echo
  echo "- CPU: $cpu_model, $ncpu logical cores; RAM: $mem_gb GiB; no GPU (reclaim on its CPU backend)"
  echo "- ${reclaim_version:-reclaim} ($reclaim_bin); $versions; gdal_calc.py on /usr/bin/python3 (numpy $sys_numpy)"
  echo "- scenes: $scene_facts ($before, $after)"
  echo "- sites: $n_features, $sites_note"
  echo "- load average when the runs began: $load_start (1, 5, 15 min); when they ended: $load_end"
  echo "- runs per tool: reclaim and io_floor $reps, rasterio and cli_chain $reps_slow; interleaved, order rotated,"
  echo "  warm page cache; wall time of the whole process (start-up, reading, writing everything) except"
  echo "  io_floor, whose own read+decode timing is the floor; peak RSS = largest over runs (MB = MiB)"
  for t in "${tools[@]}"; do
    [[ -n ${phases[$t]:-} ]] && echo "- $t phases per run: ${phases[$t]}"
  done
  echo
  echo "$table"
  echo "## Floors"
  echo
  echo -n "$floors"
  echo
  echo 'For where reclaim spends its time, profile the reclaim command above with `perf record -F 100 -g`'
  echo 'and `perf report --sort dso` (the 2026-11-28 results file in git history has one such breakdown).'
  echo
  echo "## What each tool does"
  echo
  echo "- **reclaim**: one pass over both scenes: change class (Byte COG), dNDVI and NDVI of each epoch (Float32"
  echo "  COGs, DEFLATE, floating-point predictor), per-site accumulators (exact coverage) for class hectares,"
  echo "  vegetation cover (NDVI >= 0.4), NDVI mean/median, dNDVI mean; then grades, carbon, sites.csv and"
  echo "  sites.gpkg, summary.json, 5 PNG pictures per site + overview + legend, report.html, manifest.json"
  echo "  (SHA-256 of the inputs and of every output)."
  echo "- **io_floor**: read+decode of the six bands of both epochs (ReadBlock, UInt16, no conversion), nothing"
  echo "  else: what no tool that reads these scenes through GDAL can beat."
  echo "- **reclaim_no_pictures**: the same with \`--no-pictures\` (no pictures; the report has no pictures either)."
  echo "- **reclaim_no_rasters**: the same with \`--no-rasters\`: no COG; only the 512 x 512 tiles that meet a"
  echo "  site's picture window are read (its sites.csv is the default run's; the floor reads every tile)."
  echo "- **user_script**: the four rasters from whole bands in float32 (striped DEFLATE GeoTIFFs, as rasterio's"
  echo "  examples write them) and the per-site dNDVI mean and median with rasterstats (centre rule); no other"
  echo "  column, no pictures, report or checksums."
  echo "- **rasterio**: the same rasters (tiled DEFLATE GeoTIFFs, not COGs) and sites.csv with the same columns"
  echo "  (class hectares, cover, NDVI mean and exact median, dNDVI mean, carbon, grade), centre rule;"
  echo "  single-threaded numpy (GDAL compresses with NUM_THREADS=ALL_CPUS); no pictures, report or checksums."
  echo "- **cli_chain**: NDVI before, NDVI after, dNDVI (from the two NDVI files, in float32), classes (one"
  echo "  numpy.select expression over 12 bands) and a Byte vegetation-state raster with gdal_calc.py, then two"
  echo "  exact_extract() calls (exact coverage): class hectares, cover, NDVI mean/median, dNDVI mean; no"
  echo "  carbon, grades, pictures, report or checksums."
  echo
  echo "## Agreement"
  echo
  echo "Largest absolute difference per site (and the site), untimed runs' outputs. The rasterio script uses"
  echo "the pixel-centre rule, so it is compared with \`reclaim assess --coverage center --no-pictures\` (same"
  echo "options otherwise); the CLI chain's exactextract uses exact coverage fractions, compared with the timed"
  echo "reclaim run (exact). Medians: reclaim's is binned (1/1024 of the NDVI range), the peers' exact; where"
  echo "the two middle values of a site lie apart (an even count: numpy's median is their mean, and any value"
  echo "between them is a median) or a site has only a few, partly covered clear pixels (exactextract's"
  echo "coverage-weighted median), they can differ by more than a bin, hence the row for sites with >= 100"
  echo "clear pixels."
  echo
  echo "Verdict: $verdict; tolerance: $tolerance_text."
  echo
  if [[ -n $agreement ]]; then
    echo "| pair | quantity | largest difference | NaN mismatches | where |"
    echo "| --- | --- | --- | ---: | --- |"
    echo -n "$agreement"
  else
    echo "(not computed: reclaim or both peers missing)"
  fi
  echo
  echo "## Commands"
  echo
  echo '```sh'
  for t in "${tools[@]}" reclaim_center; do
    [[ $t == reclaim_center && -z $agreement ]] && continue
    [[ $t == reclaim_center ]] && echo "# reclaim_center (agreement only, untimed)" || echo "# $t"
    command_of "$t"
    shell_words "${cmd[@]}"
  done
  echo '```'
} >"$results"
echo
echo "$table"
echo -n "$floors"
if [[ -n $agreement ]]; then
  printf '\n| pair | quantity | largest difference | NaN mismatches | where |\n| --- | --- | --- | ---: | --- |\n%s' "$agreement"
fi
suite_write assess "$tolerance_text" "$scene_facts; $n_features sites" "$results" "$floors"
log "results: $results"
[[ $verdict != differs ]]
