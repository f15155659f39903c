# shellcheck shell=bash disable=SC2034,SC2154  # sets and reads the caller's variables
# Shared helpers of the bench/peers/compare_*.sh scripts (sourced, not run).
#
#   peers_measure LOG CMD...     run CMD under measure.py; sets m_wall_s, m_max_rss_kb, m_rc
#   median, maxof                reduce a space-separated list on stdin
#   ratio A B                    A / B to two decimals, "n/a" when either is empty
#   floor_check NAME VALUE OP NEED
#                                one "- NAME: VALUE, floor OP NEED: MET|NOT MET" line (OP >=, <= or <)
#   machine_facts                sets cpu_model, mem_gb, ncpu and tag (e.g. intel-xeon-processor-2c)
#   shell_words WORD...          the command as one pastable line
#   ensure_rasterio PY           installs rasterio==1.4.4 (with affine<3) into PY's venv if missing;
#                                returns non-zero when it is still missing
#   build_change_io_floor SRC OUT
#                                compiles bench/peers/change_io_floor.cpp to OUT when OUT is missing or older
#   calc_class_expr BOA, calc_ndvi_expr BOA
#                                gdal_calc.py expressions of the default change rules (docs/change.md)
#                                and of NDVI, Sentinel-2 calibration with BOA_ADD_OFFSET BOA
#
#
# The suite's record of a workload (bench/run sets RESULTS_JSON; without it these do nothing but count):
#   agree_check NAME OK DETAIL   one agreement check against the workload's stated tolerance (OK: 1 or 0)
#   agreement_verdict            prints agreed (every check passed), differs (one failed) or unchecked
#   suite_tool GROUP TOOL RUNS_S RSS_KB FAIL
#                                one tool's runs (space-separated seconds and peak kB) or its failure
#   suite_write WORKLOAD TOLERANCE DATASET MARKDOWN FLOORS_TEXT
#                                writes RESULTS_JSON through suite_json.py (no times unless agreed)
#
# The caller sets `here` (bench/peers) and `py` (a Python for measure.py) before calling peers_measure.

peers_measure() {  # LOG CMD...
  local log=$1 line
  shift
  line=$("$py" "$here/measure.py" --log "$log" -- "$@")
  read -r m_wall_s m_max_rss_kb m_rc <<<"$(sed -E 's/[a-z_]+=//g' <<<"$line")"  # wall_s= max_rss_kb= rc=
}

# (no value: an empty line, never a failure: a tool that failed every run has no times)
median() { tr ' ' '\n' | { grep -v '^$' || true; } | sort -g | awk '{v[NR] = $1} END {if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
maxof() { tr ' ' '\n' | { grep -v '^$' || true; } | sort -g | tail -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.2f", a / b}'; }

floor_check() {  # NAME VALUE OP NEED
  awk -v name="$1" -v r="$2" -v op="$3" -v need="$4" 'BEGIN {
    if (r == "n/a" || r == "") { printf "- %s: not measured\n", name; exit }
    ok = (op == ">=") ? (r + 0 >= need + 0) : (op == "<") ? (r + 0 < need + 0) : (r + 0 <= need + 0)
    printf "- %s: %s, floor %s %s: %s\n", name, r, op, need, (ok ? "MET" : "NOT MET") }'
}

machine_facts() {
  ncpu=$(nproc)
  cpu_model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
  mem_gb=$(awk '/MemTotal/ {printf "%.0f", $2 / 1048576}' /proc/meminfo)
  tag=$(echo "$cpu_model" | tr '[:upper:]' '[:lower:]' | sed -E 's/\((r|tm)\)//g; s/ cpu / /; s/@.*//; s/[^a-z0-9]+/-/g; s/^-+|-+$//g')-${ncpu}c
}

shell_words() {  # the command as one pastable line, single-quoting only words that need it
  local w line="" q="'\\''"
  for w in "$@"; do
    if [[ $w =~ ^[A-Za-z0-9_./=,:+-]+$ ]]; then line+="$w "; else line+="'${w//\'/$q}' "; fi
  done
  echo "${line% }"
}

ensure_rasterio() {  # PY
  "$1" -c 'import rasterio' 2>/dev/null && return 0
  # affine 3.0.1 breaks rasterio 1.4's windows.from_bounds
  "$(dirname "$1")/pip" install -q --disable-pip-version-check "rasterio==1.4.4" "affine<3" >/dev/null 2>&1 || true
  "$1" -c 'import rasterio' 2>/dev/null
}

build_change_io_floor() {  # SRC OUT
  if [[ ! -x "$2" || "$1" -nt "$2" ]]; then
    # shellcheck disable=SC2046  # gdal-config prints flag lists
    c++ -O2 -std=c++17 $(gdal-config --cflags) "$1" -o "$2" $(gdal-config --libs) -pthread
  fi
}

# R: reflectance (DN + BOA) * 1e-4 in float64, NaN where DN is 0 or >= 65535 or the epoch's SCL is
# 3, 8, 9 or 10 (M). N: normalised difference, NaN where the sum is 0. The float64 arithmetic, in
# the same order, of reclaim's include/reclaim/pixel/{reflectance,indices}.hpp.
calc_lambdas() {  # BOA
  printf '%s' "(R:=lambda X,M:numpy.where(M|(X==0)|(X>=65535),numpy.nan,(X.astype(numpy.float64)+($1))*1e-4)),\
(N:=lambda p,q:(p-q)/numpy.where((s:=p+q)==0,numpy.nan,s))"
}

# The class raster: A..F = B02 B03 B04 B08 B11 SCL before, G..L the same after. b: blue, g: green,
# r: red, n: NIR, w: SWIR1; v: NDVI, x: BSI, m: MNDWI; suffix 0 before, 1 after. The default rule
# table of docs/change.md, first match wins (numpy.select): 0 nodata, 6 water, 5 loss,
# 2 revegetated, 3 partial recovery, 4 stable vegetation, 1 stable bare, else 255.
# (compare_change.sh carries the same expression inline.)
calc_class_expr() {  # BOA
  printf '%s' "[$(calc_lambdas "$1"),(M0:=numpy.isin(F,[3,8,9,10])),(M1:=numpy.isin(L,[3,8,9,10])),\
(b0:=R(A,M0)),(g0:=R(B,M0)),(r0:=R(C,M0)),(n0:=R(D,M0)),(w0:=R(E,M0)),\
(b1:=R(G,M1)),(g1:=R(H,M1)),(r1:=R(I,M1)),(n1:=R(J,M1)),(w1:=R(K,M1)),\
(v0:=N(n0,r0)),(v1:=N(n1,r1)),(x0:=N(w0+r0,n0+b0)),(x1:=N(w1+r1,n1+b1)),(m0:=N(g0,w0)),(m1:=N(g1,w1)),(d:=v1-v0),\
numpy.select([numpy.isnan(v0)|numpy.isnan(v1)|numpy.isnan(x0)|numpy.isnan(x1)|numpy.isnan(m0)|numpy.isnan(m1),\
(m0>0)|(m1>0),d<=-0.15,(v0<0.2)&(x0>0)&(v1>=0.4),(d>=0.15)&(v1<0.4),(v0>=0.4)&(v1>=0.4),\
(v0<0.2)&(x0>0)&(v1<0.2)&(x1>0)],[0,6,5,2,3,4,1],255).astype(numpy.uint8)][-1]"
}

# NDVI of one epoch: A = B04, B = B08, C = SCL; float64, rounded once to Float32.
calc_ndvi_expr() {  # BOA
  printf '%s' "[$(calc_lambdas "$1"),(M:=numpy.isin(C,[3,8,9,10])),N(R(B,M),R(A,M)).astype(numpy.float32)][-1]"
}

agree_checks=()
agree_failed=0
agree_check() {  # NAME OK DETAIL
  agree_checks+=("$1: $3 ($( (($2)) && echo within tolerance || echo OUTSIDE TOLERANCE))")
  (($2)) || agree_failed=$((agree_failed + 1))
}
agreement_verdict() {
  if ((agree_failed)); then echo differs; elif ((${#agree_checks[@]})); then echo agreed; else echo unchecked; fi
}

suite_tool() {  # GROUP TOOL RUNS_S RSS_KB FAIL
  [[ -n ${RESULTS_JSON:-} ]] || return 0
  printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "${3% }" "${4% }" "${5:-}" >>"$RESULTS_JSON.tools.tsv"
}

suite_write() {  # WORKLOAD TOLERANCE DATASET MARKDOWN FLOORS_TEXT
  [[ -n ${RESULTS_JSON:-} ]] || return 0
  local args=() c f
  touch "$RESULTS_JSON.tools.tsv"
  for c in "${agree_checks[@]}"; do args+=(--check "$c"); done
  while IFS= read -r f; do [[ -n $f ]] && args+=(--floor "$f"); done <<<"$5"
  /usr/bin/python3 "$(dirname "${BASH_SOURCE[0]}")/suite_json.py" --out "$RESULTS_JSON" --workload "$1" \
    --script "bench/peers/$(basename "$0")" --tools "$RESULTS_JSON.tools.tsv" --verdict "$(agreement_verdict)" \
    --tolerance "$2" --dataset "$3" --markdown "$4" "${args[@]}"
  rm -f "$RESULTS_JSON.tools.tsv"
}
