#!/usr/bin/env bash
# The output compression choices (issue 13): size and time of each codec, level and predictor on
# reclaim's own products, so that the defaults come from numbers.
#
#   SIZE=4096 REPS=3 bench/peers/compression_choices.sh
#
# 1. `reclaim synth` makes a SIZE x SIZE pair (cached in WORK_DIR); `reclaim indices --index ndvi`
#    and `reclaim change` (classes) write the two kinds of product reclaim writes: a noisy Float32
#    index and a Byte class raster.
# 2. Encoding alone: each product is re-encoded by GDAL's COG driver (the encoder reclaim uses,
#    host/io/cog_writer.cpp) with every choice below, REPS times, two threads; the median wall
#    time and the file size are reported. Every encoding is read back and compared with the
#    source, value for value (NaN by position), before any number is kept: all are lossless.
# 3. End to end: `reclaim indices --index ndvi` with reclaim's default and with the other
#    codecs' fast levels.
# 4. Readers: which of the GDAL builds at hand open each codec (this machine's GDAL, and the
#    GDAL inside the rasterio wheel from PyPI that Python users get).
#
# Writes bench/results/compression-<machine>.md (RESULTS_FILE overrides).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=bench/peers/lib.sh
source "$here/lib.sh"
SIZE=${SIZE:-4096}
REPS=${REPS:-3}
WORK_DIR=${WORK_DIR:-/tmp/reclaim-bench}
reclaim=${RECLAIM_BIN:-$repo/build/reclaim}
py=${PYTHON:-$repo/.venv/bin/python}
[[ -x $py ]] || py=python3
peers_py=$repo/bench/.venv-peers/bin/python
log() { echo "compression_choices: $*" >&2; }

machine_facts
results=${RESULTS_FILE:-$repo/bench/results/compression-$tag.md}
data=$WORK_DIR/synth-$SIZE
out=$WORK_DIR/compression
mkdir -p "$WORK_DIR"
rm -rf "$out" && mkdir -p "$out"
if [[ ! -f $data/2025.tif ]]; then
  log "making the $SIZE x $SIZE pair in $data"
  "$reclaim" synth --out "$data" --width "$SIZE" --height "$SIZE" >/dev/null
fi
log "the products"
"$reclaim" indices --input "$data/2025.tif" --index ndvi --out "$out/indices" --quiet >/dev/null
"$reclaim" change --before "$data/2019.tif" --after "$data/2025.tif" --out "$out/change" --quiet >/dev/null
ndvi=$out/indices/ndvi.tif
classes=$(find "$out/change" -maxdepth 1 -name '*class*.tif' | sort | head -1)
[[ -f $ndvi && -f $classes ]] || { log "no ndvi.tif or class raster was written"; exit 1; }

same_values() {  # A B: exit 0 when every value is equal (NaN by position)
  "$py" - "$1" "$2" <<'EOF'
import sys
import numpy as np
from osgeo import gdal
a = gdal.Open(sys.argv[1]).ReadAsArray()
b = gdal.Open(sys.argv[2]).ReadAsArray()
same = a.shape == b.shape and np.array_equal(a, b, equal_nan=np.issubdtype(a.dtype, np.floating))
sys.exit(0 if same else 1)
EOF
}

# name|creation options (besides COMPRESS/LEVEL), per product kind
choices_float=(
  "DEFLATE 1 float-predictor|COMPRESS=DEFLATE LEVEL=1 PREDICTOR=3"
  "DEFLATE 6 float-predictor|COMPRESS=DEFLATE LEVEL=6 PREDICTOR=3"
  "DEFLATE 9 float-predictor|COMPRESS=DEFLATE LEVEL=9 PREDICTOR=3"
  "DEFLATE 1 no predictor|COMPRESS=DEFLATE LEVEL=1 PREDICTOR=1"
  "DEFLATE 6 no predictor|COMPRESS=DEFLATE LEVEL=6 PREDICTOR=1"
  "ZSTD 1 float-predictor|COMPRESS=ZSTD LEVEL=1 PREDICTOR=3"
  "ZSTD 9 float-predictor|COMPRESS=ZSTD LEVEL=9 PREDICTOR=3"
  "ZSTD 1 no predictor|COMPRESS=ZSTD LEVEL=1 PREDICTOR=1"
  "LZW float-predictor|COMPRESS=LZW PREDICTOR=3"
  "none|COMPRESS=NONE"
)
choices_byte=(
  "DEFLATE 1|COMPRESS=DEFLATE LEVEL=1"
  "DEFLATE 6|COMPRESS=DEFLATE LEVEL=6"
  "DEFLATE 9|COMPRESS=DEFLATE LEVEL=9"
  "ZSTD 1|COMPRESS=ZSTD LEVEL=1"
  "ZSTD 9|COMPRESS=ZSTD LEVEL=9"
  "LZW|COMPRESS=LZW"
  "none|COMPRESS=NONE"
)

encode_table() {  # SRC KIND CHOICES...: the markdown table; the rows also in $out/KIND.rows
  local src=$1 kind=$2 entry name opts co f times k
  shift 2
  for entry in "$@"; do
    name=${entry%%|*}
    opts=${entry#*|}
    co=()
    for f in $opts NUM_THREADS=2 BLOCKSIZE=512 OVERVIEWS=NONE; do co+=(-co "$f"); done
    times=""
    for ((k = 0; k < REPS; k++)); do
      rm -f "$out/enc.tif"
      peers_measure "$out/enc.log" gdal_translate -q -of COG "${co[@]}" "$src" "$out/enc.tif"
      [[ $m_rc == 0 ]] || { log "gdal_translate failed for $kind $name"; return 1; }
      times+="$m_wall_s "
    done
    same_values "$src" "$out/enc.tif" || { log "$kind $name: values differ from the source (not lossless)"; return 1; }
    echo "$name|$(median <<<"$times")|${times% }|$(stat -c %s "$out/enc.tif")"
  done >"$out/$kind.rows"
  echo "| choice | median s | runs s | MB | size / uncompressed |"
  echo "| --- | ---: | --- | ---: | ---: |"
  awk -F'|' 'NR == FNR {if ($1 == "none") none = $4; next}
             {printf "| %s | %.2f | %s | %.2f | %.3f |\n", $1, $2, $3, $4 / 1e6, $4 / none}' "$out/$kind.rows" "$out/$kind.rows"
}

log "encoding the Float32 NDVI ($REPS runs per choice)"
float_table=$(encode_table "$ndvi" float "${choices_float[@]}")
log "encoding the Byte classes"
byte_table=$(encode_table "$classes" byte "${choices_byte[@]}")

log "end to end: reclaim indices --index ndvi"
e2e_rows=""
for choice in "deflate 0" "deflate 6" "zstd 0" "zstd 9"; do
  read -r codec level <<<"$choice"
  times=""
  for ((k = 0; k < REPS; k++)); do
    rm -rf "$out/e2e"
    peers_measure "$out/e2e.log" "$reclaim" indices --input "$data/2025.tif" --index ndvi --out "$out/e2e" --quiet \
      --compress "$codec" --compress-level "$level"
    [[ $m_rc == 0 ]] || { log "reclaim indices failed ($choice)"; exit 1; }
    times+="$m_wall_s "
  done
  same_values "$ndvi" "$out/e2e/ndvi.tif" || { log "reclaim indices ($choice): NDVI differs"; exit 1; }
  label="$codec, level $level"
  [[ $level == 0 ]] && label="$codec, level automatic (1 for Float32)"
  e2e_rows+="| \`--compress $codec --compress-level $level\` ($label) | $(median <<<"$times") | ${times% } | $(awk -v s="$(stat -c %s "$out/e2e/ndvi.tif")" 'BEGIN {printf "%.1f", s / 1e6}') |"$'\n'
done

log "readers"
reader_rows=""
for codec in DEFLATE ZSTD LZW; do
  f=$out/read-$codec.tif
  gdal_translate -q -of COG -co COMPRESS=$codec -co PREDICTOR=3 "$ndvi" "$f"
  sys_ok=$("$py" -c "from osgeo import gdal; import sys; gdal.UseExceptions(); gdal.Open(sys.argv[1]).ReadAsArray(); print('reads')" "$f" 2>/dev/null || echo "fails")
  rio_ok="not installed"
  if [[ -x $peers_py ]] && "$peers_py" -c 'import rasterio' 2>/dev/null; then
    rio_ok=$("$peers_py" -c "import rasterio, sys; rasterio.open(sys.argv[1]).read(1); print('reads (GDAL ' + rasterio.__gdal_version__ + ')')" "$f" 2>/dev/null || echo "fails")
  fi
  reader_rows+="| $codec + floating-point predictor | $sys_ok | $rio_ok |"$'\n'
done

gdal_version=$(gdal-config --version 2>/dev/null || "$py" -c 'from osgeo import gdal; print(gdal.__version__)')
{
  echo "# Output compression choices ($tag)"
  echo
  echo "Produced by \`bench/peers/compression_choices.sh\` on $(date -u '+%Y-%m-%d %H:%M') UTC."
  echo
  echo "- CPU: $cpu_model, $ncpu logical cores; RAM: $mem_gb GiB; GDAL $gdal_version"
  echo "- products: \`reclaim indices --index ndvi\` (Float32) and \`reclaim change\`'s $(basename "$classes") (Byte) of a $SIZE x $SIZE \`reclaim synth\` pair"
  echo "- encoding alone: \`gdal_translate -of COG -co NUM_THREADS=2 -co BLOCKSIZE=512 -co OVERVIEWS=NONE\` plus the choice, $REPS runs, median wall time; every output read back and equal to the source value for value"
  echo "- command: \`$(shell_words env SIZE="$SIZE" REPS="$REPS" bench/peers/compression_choices.sh)\`"
  echo
  echo "## Float32 NDVI, encoding alone"
  echo
  echo "$float_table"
  echo
  echo "## Byte classes, encoding alone"
  echo
  echo "$byte_table"
  echo
  echo "## End to end: reclaim indices --index ndvi"
  echo
  echo "| options | median s | runs s | ndvi.tif MB |"
  echo "| --- | ---: | --- | ---: |"
  printf '%s' "$e2e_rows"
  echo
  echo "## Readers"
  echo
  echo "| file | this machine's GDAL ($gdal_version) | rasterio wheel from PyPI |"
  echo "| --- | --- | --- |"
  printf '%s' "$reader_rows"
} >"$results"
log "results: $results"
