#!/usr/bin/env bash
# `reclaim assess` chained from command-line tools (the CLI peer of bench/peers/compare_assess.sh):
#
#   1. gdal_calc.py  NDVI before   B04 B08 SCL of the before scene -> ndvi_before.tif
#   2. gdal_calc.py  NDVI after    the same of the after scene     -> ndvi_after.tif
#   3. gdal_calc.py  dNDVI         ndvi_after.tif - ndvi_before.tif -> dndvi.tif
#   4. gdal_calc.py  change class  one expression over B02 B03 B04 B08 B11 SCL of both scenes
#                                  (12 inputs): the default rules of docs/change.md -> change_class.tif
#   5. gdal_calc.py  vegetation    from the two NDVI rasters, one Byte raster holding both epochs'
#                                  state: 1 + 3 * s(before) + s(after), s = 0 no data, 1 NDVI < 0.4,
#                                  2 NDVI >= 0.4 -> vegstate.tif (so that one fraction table per
#                                  site gives the vegetation cover of both epochs)
#   6. exactextract  per-site statistics, exact coverage fractions, two exact_extract() calls of
#                    the Python package (this exactextract has no CLI): count/unique/frac of
#                    change_class.tif and vegstate.tif; mean/median of the NDVI rasters and dNDVI
#                    -> sites.csv (class hectares, valid fraction, cover % per epoch, NDVI mean and
#                    median per epoch, mean dNDVI; columns named as in reclaim's sites.csv)
#
# Calibration as reclaim's for Sentinel-2 L2A (docs/sensors.md): reflectance = (DN + BOA) * 1e-4 in
# float64, DN 0 or >= 65535 invalid, SCL 3, 8, 9, 10 masked. Rasters: tiled GeoTIFF, 512 x 512
# blocks, DEFLATE, NUM_THREADS=ALL_CPUS (GDAL_NUM_THREADS=ALL_CPUS as well), Float32 with
# PREDICTOR=3 and NaN nodata, Byte with PREDICTOR=2 and nodata 0: reclaim's COG options as far as
# gdal_calc allows (GDAL 3.6's gdal_calc writes through Create(), which the COG driver lacks).
# Prints one line per step, "step NAME SECONDS", and "total SECONDS".
#
# usage: assess_cli_chain.sh --before B.tif --after A.tif --sites S.gpkg --out DIR
#                            [--id-field site_id] [--boa-offset 0]
#   the sites must be in the scenes' CRS (exactextract does not reproject).
#   PY: the Python with exactextract (default: the repository's .venv/bin/python)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/peers/lib.sh
source "$here/lib.sh"
py=${PY:-$here/../../.venv/bin/python}
id_field=site_id
boa=0
before="" after="" sites="" out=""
while (($#)); do
  case $1 in
    --before) before=$2 ;;
    --after) after=$2 ;;
    --sites) sites=$2 ;;
    --out) out=$2 ;;
    --id-field) id_field=$2 ;;
    --boa-offset) boa=$2 ;;
    *) echo "assess_cli_chain: unknown argument $1" >&2; exit 2 ;;
  esac
  shift 2
done
[[ -n $before && -n $after && -n $sites && -n $out ]] || { echo "assess_cli_chain: --before, --after, --sites and --out are required" >&2; exit 2; }
mkdir -p "$out"

co=(--co=TILED=YES --co=BLOCKXSIZE=512 --co=BLOCKYSIZE=512 --co=COMPRESS=DEFLATE --co=NUM_THREADS=ALL_CPUS --co=BIGTIFF=IF_SAFER)
f32=(--type=Float32 --NoDataValue=nan --co=PREDICTOR=3)
u8=(--type=Byte --NoDataValue=0 --co=PREDICTOR=2)
calc() { env GDAL_NUM_THREADS=ALL_CPUS gdal_calc.py --quiet --overwrite --hideNoData --format=GTiff "${co[@]}" "$@"; }

t_all=$(date +%s.%N)
step() {  # NAME CMD...
  local name=$1 t0
  shift
  t0=$(date +%s.%N)
  "$@"
  awk -v n="$name" -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "step %s %.3f\n", n, b - a}'
}

step ndvi_before calc -A "$before" --A_band=3 -B "$before" --B_band=4 -C "$before" --C_band=7 \
  --calc="$(calc_ndvi_expr "$boa")" "${f32[@]}" --outfile="$out/ndvi_before.tif"
step ndvi_after calc -A "$after" --A_band=3 -B "$after" --B_band=4 -C "$after" --C_band=7 \
  --calc="$(calc_ndvi_expr "$boa")" "${f32[@]}" --outfile="$out/ndvi_after.tif"
step dndvi calc -A "$out/ndvi_after.tif" -B "$out/ndvi_before.tif" --calc="A-B" "${f32[@]}" --outfile="$out/dndvi.tif"
step change_class calc \
  -A "$before" --A_band=1 -B "$before" --B_band=2 -C "$before" --C_band=3 \
  -D "$before" --D_band=4 -E "$before" --E_band=5 -F "$before" --F_band=7 \
  -G "$after" --G_band=1 -H "$after" --H_band=2 -I "$after" --I_band=3 \
  -J "$after" --J_band=4 -K "$after" --K_band=5 -L "$after" --L_band=7 \
  --calc="$(calc_class_expr "$boa")" "${u8[@]}" --outfile="$out/change_class.tif"
step vegstate calc -A "$out/ndvi_before.tif" -B "$out/ndvi_after.tif" \
  --calc="(1+3*numpy.where(numpy.isnan(A),0,1+(A>=0.4))+numpy.where(numpy.isnan(B),0,1+(B>=0.4))).astype(numpy.uint8)" \
  "${u8[@]}" --outfile="$out/vegstate.tif"

exactextract_step() {
  "$py" - "$out" "$sites" "$id_field" <<'PYEOF'
import csv
import math
import os
import sys

from exactextract import exact_extract
from osgeo import gdal

gdal.UseExceptions()
out, sites, id_field = sys.argv[1:]
r = lambda name: os.path.join(out, name + ".tif")
gt = gdal.Open(r("change_class")).GetGeoTransform()
pixel_ha = abs(gt[1] * gt[5]) / 1e4
cats = exact_extract([r("change_class"), r("vegstate")], sites, ["count", "unique", "frac"], include_cols=[id_field])
vals = exact_extract([r("ndvi_before"), r("ndvi_after"), r("dndvi")], sites, ["mean", "median"], include_cols=[id_field])
classes = [("still_bare_ha", 1), ("revegetated_ha", 2), ("partial_recovery_ha", 3), ("stable_vegetation_ha", 4),
           ("newly_disturbed_ha", 5), ("water_ha", 6), ("unclassified_ha", 255)]
columns = ["area_ha", "valid_fraction", "cover_before_pct", "cover_after_pct", "ndvi_before_mean", "ndvi_before_median",
           "ndvi_after_mean", "ndvi_after_median", "dndvi_mean", "no_data_ha"] + [c for c, _ in classes]
fmt = lambda v: "" if v is None or math.isnan(v) else repr(float(v))
with open(os.path.join(out, "sites.csv"), "w", newline="") as fh:
    w = csv.writer(fh)
    w.writerow([id_field] + columns)
    for c, v in zip(cats, vals):
        c, v = c["properties"], v["properties"]
        assert c[id_field] == v[id_field]
        area = c["vegstate_count"] * pixel_ha  # vegstate is 1..9 everywhere in the scenes
        valid = c["change_class_count"] * pixel_ha
        m = {"area_ha": area, "valid_fraction": valid / area if area > 0 else math.nan, "no_data_ha": area - valid}
        frac = dict(zip(c["change_class_unique"].tolist(), c["change_class_frac"].tolist()))
        for name, k in classes:
            m[name] = frac.get(k, 0.0) * valid
        veg = dict(zip(c["vegstate_unique"].tolist(), c["vegstate_frac"].tolist()))
        for key, state in (("before", lambda code: (code - 1) // 3), ("after", lambda code: (code - 1) % 3)):
            clear = sum(f for code, f in veg.items() if state(code) >= 1)
            vegetated = sum(f for code, f in veg.items() if state(code) == 2)
            m[f"cover_{key}_pct"] = 100.0 * vegetated / clear if clear > 0 else math.nan
        for key, name in (("before", "ndvi_before"), ("after", "ndvi_after")):
            m[f"ndvi_{key}_mean"] = v[f"{name}_mean"]
            m[f"ndvi_{key}_median"] = v[f"{name}_median"]
        m["dndvi_mean"] = v["dndvi_mean"]
        w.writerow([c[id_field]] + [fmt(m[k]) for k in columns])
PYEOF
}
step exactextract exactextract_step
awk -v a="$t_all" -v b="$(date +%s.%N)" 'BEGIN {printf "total %.3f\n", b - a}'
