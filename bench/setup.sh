#!/usr/bin/env bash
# Installs what the benchmark suite (bench/run) needs on Debian 12, pinned where pip installs:
#   apt      what reclaim builds and tests with (scripts/setup.sh), gdal_calc.py (gdal-bin),
#            Orfeo ToolBox (otb-bin), matplotlib for the charts (python3-matplotlib)
#   .venv    Debian's python3 + exactextract, rasterio, affine (bench/requirements-venv.txt)
#   bench/.venv-peers
#            odc-stac, xarray, dask, rioxarray, numpy 2 ... (PINS in bench/peers/composite_xarray.py)
# Idempotent: quick when everything is there. Run as root, or with sudo available.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
scripts/setup.sh gdal-bin otb-bin python3-matplotlib
pip_quiet=(-q --disable-pip-version-check)
if ! .venv/bin/python - <<'PY' 2>/dev/null; then
import importlib.metadata as m, sys
want = [l.split("#")[0].strip() for l in open("bench/requirements-venv.txt")]
sys.exit(any(r and m.version(r.split("==")[0]) != r.split("==")[1] for r in want))
PY
  echo "bench/setup: installing bench/requirements-venv.txt into .venv" >&2
  # Debian's numpy stays: python3-gdal and scipy are built against it (a pip upgrade breaks them)
  constraints=$(mktemp)
  /usr/bin/python3 -c 'import numpy; print(f"numpy=={numpy.__version__}")' >"$constraints"
  .venv/bin/pip install "${pip_quiet[@]}" -c "$constraints" -r bench/requirements-venv.txt
  rm -f "$constraints"
fi
pins=$(/usr/bin/python3 -c 'import ast, sys
tree = ast.parse(open(sys.argv[1]).read())
print(" ".join(next(ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "PINS")))' \
  bench/peers/composite_xarray.py)
if ! bench/.venv-peers/bin/python -c 'import odc.stac, rioxarray, dask' 2>/dev/null; then
  echo "bench/setup: making bench/.venv-peers ($pins)" >&2
  [[ -x bench/.venv-peers/bin/python ]] || /usr/bin/python3 -m venv bench/.venv-peers
  # shellcheck disable=SC2086  # the pins are words
  bench/.venv-peers/bin/pip install "${pip_quiet[@]}" $pins
fi
