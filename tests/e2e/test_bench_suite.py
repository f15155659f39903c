"""The benchmark suite (bench/run) end to end at smoke size: it runs the workloads with their
peers, gates every time on the outputs' agreement, and writes the markdown, JSON and charts.

The times themselves are not asserted (speed is the suite's business, not a unit test's); what
is asserted is that the report is made of the workloads' own measurements, that a floor's ratio
is the ratio of the reported medians, and that outputs which do not agree get no time at all.
"""
import json
import os
import shutil
import statistics
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RECLAIM = os.environ.get("RECLAIM_BIN", str(ROOT / "build" / "reclaim"))
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run_suite(work, out, only, reclaim=RECLAIM, extra_env=None):
    env = dict(os.environ, RECLAIM_BIN=reclaim, WORK_DIR=str(work), **(extra_env or {}))
    return subprocess.run([str(ROOT / "bench" / "run"), "--smoke", "--only", only, "--out", str(out)],
                          env=env, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    if not shutil.which("gdal_calc.py"):
        pytest.fail("gdal_calc.py missing: run scripts/setup.sh (gdal-bin)")
    return tmp_path_factory.mktemp("bench")


@pytest.fixture(scope="module")
def suite(work):
    out = work / "report"
    p = run_suite(work, out, "indices,change,zonal,national")
    assert p.returncode == 0, p.stdout + p.stderr
    return out, json.loads(Path(f"{out}.json").read_text())


def test_every_workload_agreed_and_reported_its_tools(suite):
    out, doc = suite
    names = [w["workload"] for w in doc["workloads"]]
    assert names == ["indices", "change", "zonal", "national"]
    for w in doc["workloads"]:
        assert w["rc"] == 0
        assert w["agreement"]["verdict"] == "agreed", w
        assert w["agreement"]["tolerance"]
        assert w["agreement"]["checks"] and all("within tolerance" in c or "byte-identical" in c
                                                 for c in w["agreement"]["checks"]), w["agreement"]
        reclaim = [t for t in w["tools"] if t["role"] == "reclaim"]
        assert reclaim and all(t["median_s"] > 0 for t in reclaim)
        for t in w["tools"]:
            if t["runs_s"]:
                assert t["median_s"] == pytest.approx(statistics.median(t["runs_s"]))
    roles = {(w["workload"], t["tool"]): t["role"] for w in doc["workloads"] for t in w["tools"]}
    assert roles[("indices", "gdal_calc")] == "peer" and roles[("indices", "io_floor")] == "floor"
    assert roles[("zonal", "exactextract")] == "peer"


def test_floor_ratios_are_the_ratios_of_the_reported_medians(suite):
    _, doc = suite
    indices = next(w for w in doc["workloads"] if w["workload"] == "indices")
    med = {t["tool"]: t["median_s"] for t in indices["tools"]}
    floor = next(f for f in indices["floors"] if f["text"].startswith("gdal_calc.py / reclaim"))
    assert floor["value"] == pytest.approx(med["gdal_calc"] / med["reclaim"], abs=0.006)
    assert floor["met"] == (floor["value"] >= 2.5)
    zonal = next(w for w in doc["workloads"] if w["workload"] == "zonal")
    groups = {t["group"] for t in zonal["tools"]}
    assert len(groups) == 2  # the small and the large zone set


def test_markdown_and_charts(suite):
    out, doc = suite
    md = Path(f"{out}.md").read_text()
    assert "## Summary" in md and "## Agreement" in md and "## Workloads in detail" in md
    for w in doc["workloads"]:
        for t in w["tools"]:
            assert f"| {w['workload']} | {t['group']} | {t['tool']} | {t['role']} | {t['median_s']:.2f} |" in md
    # the workloads' own code blocks keep their comment lines
    assert "\n# reclaim\n" in md
    for chart in ("time", "floor"):
        png = Path(f"{out}-{chart}.png")
        assert png.read_bytes()[:8] == PNG_SIGNATURE
        assert f"]({png.name})" in md


def test_outputs_that_do_not_agree_get_no_time(work, tmp_path):
    # A reclaim that writes a slightly wrong NDVI: one pixel off by 1e-3, well over the tolerance.
    wrapper = tmp_path / "reclaim-off"
    wrapper.write_text(f"""#!/bin/bash
"{RECLAIM}" "$@" || exit $?
[[ $1 == indices ]] || exit 0
out=""; while (($#)); do [[ $1 == --out ]] && out=$2; shift; done
/usr/bin/python3 - "$out" <<'PY'
import glob, sys
import numpy as np
from osgeo import gdal
path = glob.glob(sys.argv[1] + "/*ndvi*.tif")[0]
ds = gdal.Open(path)
a = ds.ReadAsArray()
y, x = np.argwhere(np.isfinite(a))[0]
a[y, x] += 1e-3
driver = gdal.GetDriverByName("GTiff")
copy = driver.CreateCopy(path + ".tmp.tif", ds)
copy.GetRasterBand(1).WriteArray(a)
copy = None
ds = None
import os
os.replace(path + ".tmp.tif", path)
PY
""")
    wrapper.chmod(0o755)
    out = tmp_path / "report"
    p = run_suite(work, out, "indices", reclaim=str(wrapper), extra_env={"TOOLS": "reclaim gdal_calc"})
    assert p.returncode == 1, p.stdout + p.stderr
    doc = json.loads(Path(f"{out}.json").read_text())
    w = doc["workloads"][0]
    assert w["agreement"]["verdict"] == "differs"
    assert any("OUTSIDE TOLERANCE" in c for c in w["agreement"]["checks"])
    assert all(t["median_s"] is None and not t["runs_s"] for t in w["tools"])
    assert w["floors"] == []
    md = Path(f"{out}.md").read_text()
    assert "outputs did not agree: no time reported" in md
    assert "no time is reported" in md


def test_a_second_run_on_the_same_day_does_not_replace_the_first(tmp_path):
    # No --out: the default stem (WORK_DIR/suite-<date>-<machine>-smoke for --smoke); the second
    # run must write beside the first and leave the first's files as they were.
    env = dict(os.environ, RECLAIM_BIN=RECLAIM, WORK_DIR=str(tmp_path))

    def run():
        p = subprocess.run([str(ROOT / "bench" / "run"), "--smoke", "--only", "national"], env=env,
                           capture_output=True, text=True, timeout=600)
        assert p.returncode == 0, p.stdout + p.stderr

    run()
    [first] = tmp_path.glob("suite-*-smoke.md")
    first_text = first.read_text()
    run()
    [second] = tmp_path.glob("suite-*-smoke-2.md")
    assert second.name == first.name[:-len(".md")] + "-2.md"
    assert first.read_text() == first_text
    for stem in (first, second):
        assert json.loads(stem.with_suffix(".json").read_text())["workloads"][0]["workload"] == "national"
