#!/usr/bin/env bash
# The main job on the built-in demo data: installs what is missing, builds, writes the
# synthetic 2019/2025 scene pair and mine sites, and runs the rehabilitation assessment
# (reclaim assess): change classes, NDVI of both epochs, per-site metrics and grades,
# pictures, report.html and manifest.json, from one pass over the tiles.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
out=${RECLAIM_DEMO_OUT:-out/demo}
data="$out/data"
if [[ ! -f "$data/2025.tif" ]]; then
  build/reclaim synth --out "$data" >/dev/null
fi
build/reclaim assess --before "$data/2019.tif" --after "$data/2025.tif" --sensor sentinel2-l2a \
  --sites "$data/sites.gpkg" --id-field site_id --region-field status --out "$out/assess" >/dev/null
echo "demo data:  $data (2019.tif, 2025.tif, sites.gpkg)"
echo "rasters:    $out/assess (change_class.tif, dndvi.tif, 2019_ndvi.tif, 2025_ndvi.tif: COGs)"
echo "per site:   $out/assess/sites.csv and sites.gpkg (hectares per class, cover, NDVI, carbon, grade, flags)"
echo "totals:     $out/assess/summary.json"
echo "report:     $out/assess/report.html (self-contained; open it in a browser)"
echo "manifest:   $out/assess/manifest.json (inputs, parameters, outputs with SHA-256)"
grades=$(python3 -c "import json,sys; t=json.load(open(sys.argv[1]))['totals']; print(', '.join(f'{k}: {v}' for k,v in sorted(t['grades'].items())), f\"| revegetated {t['revegetated_ha']:.1f} ha of {t['area_ha']:.1f} ha\")" "$out/assess/summary.json" 2>/dev/null || true)
[[ -n $grades ]] && echo "grades:     $grades"
