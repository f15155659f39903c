#!/usr/bin/env bash
# The main job on the built-in demo data: installs what is missing, builds, writes the
# synthetic 2019/2025 scene pair and mine sites, computes every index of both epochs,
# classifies the change between them and summarises dNDVI per mine site.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
out=${RECLAIM_DEMO_OUT:-out/demo}
data="$out/data"
if [[ ! -f "$data/2025.tif" ]]; then
  build/reclaim synth --out "$data" >/dev/null
fi
build/reclaim indices --input 2019="$data/2019.tif" --input 2025="$data/2025.tif" \
  --sensor sentinel2-l2a --index all --out "$out/indices" >/dev/null
build/reclaim change --before 2019="$data/2019.tif" --after 2025="$data/2025.tif" --index ndvi \
  --out "$out/change" >/dev/null
build/reclaim zonal --raster "$out/change/dndvi.tif" --zones "$data/sites.gpkg" --id-field site_id \
  --stats count,area_ha,mean,median,min,max,coverage --out "$out/sites_dndvi.csv" >/dev/null
echo "demo data:    $data (2019.tif, 2025.tif, sites.gpkg)"
echo "index COGs:   $out/indices ($(ls "$out/indices" | wc -l) files, e.g. $out/indices/2025_ndvi.tif)"
echo "change:       $out/change (change_class.tif with classes and colours, dndvi.tif)"
echo "per site:     $out/sites_dndvi.csv (dNDVI statistics of every mine site)"
echo "look at one:  gdalinfo -hist $out/change/change_class.tif"
