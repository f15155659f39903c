#!/usr/bin/env bash
# Installs what reclaim needs to build and test on Debian 12 (run as root, or with sudo
# available). Idempotent: quiet and quick when everything is already there.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libgdal-dev gdal-bin python3-gdal python3-numpy python3-scipy python3-pytest python3-venv
  libcxxopts-dev nlohmann-json3-dev libtomlplusplus-dev libspdlog-dev libfmt-dev
  libgtest-dev libbenchmark-dev libssl-dev libpng-dev libtiff-dev libdeflate-dev
  chromium
  python3-matplotlib  # the benchmark suite's charts (bench/run; its smoke test, tests/e2e/test_bench_suite.py)
  slurm-wlm munge  # the national drivers' test runs a real single-node Slurm (tests/e2e/test_slurm.py)
)
packages+=("$@")  # extra packages a script needs (scripts/fuzz.sh: clang-14 libclang-rt-14-dev)

# Python packages Debian does not ship, for the end-to-end tests' independent references
# (exactextract): a virtual environment over Debian's python3 (numpy, GDAL, scipy, pytest).
setup_venv() {
  local venv=.venv
  if [[ ! -x $venv/bin/python ]] || ! $venv/bin/python -c "import exactextract" 2>/dev/null; then
    echo "setup: creating $venv with exactextract" >&2
    /usr/bin/python3 -m venv --system-site-packages "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "exactextract==0.3.0"
  fi
}
cd "$(dirname "$0")/.."

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  setup_venv
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
setup_venv
