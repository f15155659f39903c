#!/usr/bin/env bash
# Copies the sources that the GPU machine lacks into .devsrc/ (ignored by git) so they can
# travel with the working tree: today only GoogleTest, which scripts/gpu-check.sh builds
# from source (-DRECLAIM_GTEST_SOURCE_DIR) where libgtest is not installed.
#
#   scripts/stage-gpu-sources.sh            # copies /usr/src/googletest
#   GTEST_SRC=/path/to/googletest scripts/stage-gpu-sources.sh
#
# Then, on the GPU machine: scripts/gpu-check.sh (it finds .devsrc/googletest by itself).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
src=${GTEST_SRC:-/usr/src/googletest}
dest="$repo/.devsrc/googletest"

if [[ ! -f "$src/CMakeLists.txt" || ! -d "$src/googletest" ]]; then
  echo "stage-gpu-sources: no GoogleTest source tree at $src (install libgtest-dev, or set GTEST_SRC)" >&2
  exit 1
fi

rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
cp -a "$src" "$dest"
# A build folder inside the copy would travel too: drop any.
find "$dest" -maxdepth 2 -type d -name 'build*' -prune -exec rm -rf {} +

version=$(sed -n 's/.*GOOGLETEST_VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt" | head -1)
echo "stage-gpu-sources: copied GoogleTest ${version:-?} from $src to .devsrc/googletest ($(du -sh "$dest" | cut -f1))"
if ! git -C "$repo" check-ignore -q "$dest" 2>/dev/null; then
  echo "stage-gpu-sources: note: .devsrc/ is not ignored by git; add '/.devsrc/' to .gitignore so it is never committed"
fi
