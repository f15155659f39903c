#!/usr/bin/env bash
# reclaim with GeoTIFF tiles read directly (libtiff + libdeflate, host/io/direct_tiff.hpp) against
# the same build reading through GDAL (RECLAIM_DIRECT_TIFF=0), on the bench's 10980 x 10980 files:
#
#   indices      reclaim indices --index ndvi on one scene (3 UInt16 bands, DEFLATE, predictor 2)
#   zonal_300    reclaim zonal on the Float32 NDVI COG (DEFLATE, floating-point predictor), 300 sites
#   zonal_20000  the same with 20 000 sites
#   assess_lean  reclaim assess --no-rasters, 300 sites (12 UInt16 bands of two scenes)
#
#   REPS=3 bench/peers/direct_tiff_ab.sh
#
# Runs interleaved (direct, GDAL, direct, ...) on a warm page cache; medians of wall time and of
# user+system CPU time. Each workload's outputs of both ways are compared byte for byte before any
# time is reported. Needs the files bench/run makes (WORK_DIR, default /tmp/reclaim-bench: the
# synth-10980 pair, ndvi-10980/ndvi.tif, zonal-10980/sites-300.gpkg and random-20000.gpkg).
# Writes bench/results/direct-tiff-<machine>.md (RESULTS_FILE overrides).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=bench/peers/lib.sh
source "$here/lib.sh"
REPS=${REPS:-3}
work=${WORK_DIR:-/tmp/reclaim-bench}
reclaim=${RECLAIM_BIN:-$repo/build/reclaim}
machine_facts
out=${RESULTS_FILE:-$repo/bench/results/direct-tiff-$tag.md}
scene=$work/synth-10980
for f in "$scene/2019.tif" "$scene/2025.tif" "$work/ndvi-10980/ndvi.tif" "$work/zonal-10980/sites-300.gpkg" \
  "$work/zonal-10980/random-20000.gpkg"; do
  [[ -f $f ]] || { echo "direct_tiff_ab: $f is missing: run bench/run --only indices,zonal,assess first" >&2; exit 2; }
done
ab=$work/direct-tiff-ab
mkdir -p "$ab"

command_of() {  # WORKLOAD OUT -> cmd array
  local o=$2 zonal=("$reclaim" zonal --raster "$work/ndvi-10980/ndvi.tif" --id-field site_id
    --stats count,sum,mean,min,max,stddev --coverage exact --quiet --overwrite)
  case $1 in
    indices) cmd=("$reclaim" indices --input "$scene/2025.tif" --sensor sentinel2-l2a --boa-offset 0 --index ndvi
                  --out "$o" --quiet) ;;
    zonal_300) cmd=("${zonal[@]}" --zones "$work/zonal-10980/sites-300.gpkg" --out "$o/sites.csv") ;;
    zonal_20000) cmd=("${zonal[@]}" --zones "$work/zonal-10980/random-20000.gpkg" --out "$o/sites.csv") ;;
    assess_lean) cmd=("$reclaim" assess --before "$scene/2019.tif" --after "$scene/2025.tif"
                      --sites "$work/zonal-10980/sites-300.gpkg" --id-field site_id --boa-offset 0 --no-rasters
                      --out "$o" --quiet) ;;
  esac
}

# The files both ways must write alike (the manifest names its own folder and times).
compared_files() {
  case $1 in
    indices) echo ndvi.tif ;;
    zonal_*) echo sites.csv ;;
    assess_lean) echo sites.csv summary.json ;;
  esac
}

cat "$scene/2019.tif" "$scene/2025.tif" "$work/ndvi-10980/ndvi.tif" >/dev/null  # warm the page cache
rows=""
for w in indices zonal_300 zonal_20000 assess_lean; do
  declare -A wall=() cpu=()
  for ((k = 1; k <= REPS; ++k)); do
    for way in direct gdal; do
      o=$ab/$w-$way
      rm -rf "$o"
      mkdir -p "$o"
      command_of "$w" "$o"
      flag=1
      [[ $way == gdal ]] && flag=0
      env RECLAIM_DIRECT_TIFF=$flag /usr/bin/time -f '%e %U %S' "${cmd[@]}" >/dev/null 2>"$ab/$w-$way.err" ||
        { echo "direct_tiff_ab: $w ($way) failed: $(tail -3 "$ab/$w-$way.err")" >&2; exit 1; }
      read -r e u s < <(tail -1 "$ab/$w-$way.err")
      wall[$way]+="$e "
      cpu[$way]+="$(awk -v u="$u" -v s="$s" 'BEGIN {printf "%.2f", u + s}') "
    done
    for f in $(compared_files "$w"); do
      cmp -s "$ab/$w-direct/$f" "$ab/$w-gdal/$f" || { echo "direct_tiff_ab: $w: $f differs between the two ways" >&2; exit 1; }
    done
  done
  wd=$(median <<<"${wall[direct]}") wg=$(median <<<"${wall[gdal]}")
  cd_=$(median <<<"${cpu[direct]}") cg=$(median <<<"${cpu[gdal]}")
  rows+="| $w | ${wall[direct]}| ${wall[gdal]}| $wd | $wg | $(ratio "$wg" "$wd") | $cd_ | $cg | $(ratio "$cg" "$cd_") |"$'\n'
  unset wall cpu
done

{
  echo "# GeoTIFF tiles read directly vs through GDAL ($tag)"
  echo
  echo "Produced by \`REPS=$REPS bench/peers/direct_tiff_ab.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'), reclaim at $(git -C "$repo" rev-parse --short HEAD)."
  echo
  echo "- CPU: $cpu_model, $ncpu logical cores; RAM: $mem_gb GiB; $(gdalinfo --version)"
  echo "- direct: reclaim as built (host/io/direct_tiff.hpp); gdal: the same binary with RECLAIM_DIRECT_TIFF=0"
  echo "- $REPS runs each, interleaved, warm page cache; wall and CPU (user + system) medians in seconds"
  echo "- every run's outputs of both ways compared byte for byte (ndvi.tif; sites.csv; sites.csv and summary.json): identical"
  echo
  echo "| workload | direct runs (s) | gdal runs (s) | direct wall | gdal wall | gdal / direct | direct CPU | gdal CPU | gdal / direct |"
  echo "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  printf '%s' "$rows"
  echo
  echo "Workloads: indices (NDVI of $scene/2025.tif), zonal_300 and zonal_20000 (exact statistics of"
  echo "$work/ndvi-10980/ndvi.tif over sites-300.gpkg and random-20000.gpkg), assess_lean"
  echo "(\`reclaim assess --no-rasters\` of the 2019/2025 pair, 300 sites)."
} >"$out"
echo "direct_tiff_ab: results: $out"
