"""What a batch log shows of a run (stderr to a file: progress lines, bounded, ending at 100 %,
the finishing steps named), and how many threads a run uses (the CPU affinity mask, --threads)."""
import json
import os
import re
import subprocess
import time

import numpy as np
import pytest
from osgeo import gdal

from conftest import utm49_srs, write_raster

GT = (600000.0, 10.0, 0.0, 4300000.0, 0.0, -10.0)
GENERIC = ["--sensor", "generic", "--scale", "1e-4", "--bands", "red=1,nir=2"]


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    """1024 x 1024 px in 128 px blocks: with a small --memory-budget, dozens of tiles."""
    rng = np.random.default_rng(7)
    planes = [rng.integers(200, 3000, (1024, 1024)).astype(np.uint16) for _ in range(2)]
    return write_raster(tmp_path_factory.mktemp("progress") / "scene.tif", planes, GT, utm49_srs(), block=128)


def run_logged(reclaim_bin, tmp_path, *args):
    """Runs reclaim with stderr to a file (as in a batch job); returns the log's lines."""
    log = tmp_path / "job.log"
    with open(log, "w") as err:
        proc = subprocess.run([reclaim_bin, *map(str, args)], stdout=subprocess.DEVNULL, stderr=err)
    text = log.read_text()
    assert proc.returncode == 0, text
    return text.splitlines()


PASS_LINE = re.compile(r"^reclaim: indices: (\d+)% \((\d+)/(\d+) tiles")
FINISH_LINE = re.compile(r"^reclaim: indices: finishing (\d+)%")


def test_a_log_gets_bounded_progress_lines_ending_at_100(reclaim_bin, scene, tmp_path):
    lines = run_logged(reclaim_bin, tmp_path, "indices", "--input", scene, *GENERIC, "--index", "ndvi,savi",
                       "--memory-budget", "8M", "--out", tmp_path / "o")
    tiles_total = int(next(re.search(r"(\d+) tiles of", l).group(1) for l in lines if " tiles of " in l))
    assert tiles_total >= 20, f"too few tiles to test the throttling: {tiles_total}"
    found = [PASS_LINE.match(l) for l in lines]
    pct = [int(m.group(1)) for m in found if m]
    done = [int(m.group(2)) for m in found if m]
    assert 2 <= len(pct) <= 10, f"{len(pct)} progress lines for {tiles_total} tiles:\n" + "\n".join(lines)
    assert pct == sorted(set(pct)) and done == sorted(set(done)), lines   # strictly increasing
    assert pct[-1] == 100 and done[-1] == tiles_total, lines
    for m in (m for m in found if m):
        assert int(m.group(3)) == tiles_total
        # the percentage is the 10 % step reached: never ahead of the tiles done
        assert int(m.group(1)) <= 100 * int(m.group(2)) / tiles_total + 1e-9, m.group(0)
    assert lines[-1].startswith("reclaim: done: 2 files written"), lines


def test_finishing_work_is_logged_after_the_pass(reclaim_bin, scene, tmp_path):
    """--overviews: the COGs are encoded after the pass (scratch writer); the log names that step
    and its progress instead of going silent after the pass's last line."""
    lines = run_logged(reclaim_bin, tmp_path, "indices", "--input", scene, *GENERIC, "--index", "ndvi,savi",
                       "--overviews", "--memory-budget", "8M", "--out", tmp_path / "o")
    last_pass = max(i for i, l in enumerate(lines) if PASS_LINE.match(l))
    assert "then encoding" in lines[last_pass], lines[last_pass]
    step = [i for i, l in enumerate(lines) if l == "reclaim: indices: finishing: encoding 2 COGs with overviews"]
    assert len(step) == 1 and step[0] > last_pass, lines
    finish = [(i, int(m.group(1))) for i, m in ((i, FINISH_LINE.match(l)) for i, l in enumerate(lines)) if m]
    pct = [p for _, p in finish]
    assert 1 <= len(pct) <= 10 and pct == sorted(set(pct)) and pct[-1] == 100, lines
    assert all(i > step[0] for i, _ in finish)
    assert lines[-1].startswith("reclaim: done: 2 files written"), lines


def test_quiet_and_json_logs_have_no_progress_lines(reclaim_bin, scene, tmp_path):
    lines = run_logged(reclaim_bin, tmp_path, "indices", "--input", scene, *GENERIC, "--memory-budget", "8M",
                       "--quiet", "--out", tmp_path / "q")
    assert lines == [], lines
    lines = run_logged(reclaim_bin, tmp_path, "indices", "--input", scene, *GENERIC, "--memory-budget", "8M",
                       "--overviews", "--log-format", "json", "--out", tmp_path / "j")
    events = [json.loads(l) for l in lines]   # every line is one JSON object
    progress = [e for e in events if e["event"] == "progress"]
    assert progress and progress[-1]["tiles_done"] == progress[-1]["tiles_total"]
    assert [e["step"] for e in events if e["event"] == "finishing"] == ["encoding 1 COG with overviews"]


# --- threads ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def big_scene(tmp_path_factory):
    """2048 x 2048 px: enough COG blocks that GDAL starts its compression pool."""
    rng = np.random.default_rng(8)
    planes = [rng.integers(200, 3000, (2048, 2048)).astype(np.uint16) for _ in range(2)]
    return write_raster(tmp_path_factory.mktemp("threads") / "big.tif", planes, GT, utm49_srs())


def peak_threads(cmd):
    """Runs `cmd`; returns (the most threads /proc showed it with at once, its JSON events)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = 0
    while proc.poll() is None:
        try:
            peak = max(peak, len(os.listdir(f"/proc/{proc.pid}/task")))
        except FileNotFoundError:
            break
        time.sleep(0.002)
    err = proc.stderr.read()
    assert proc.returncode == 0, err
    return peak, [json.loads(l) for l in err.splitlines()]


def run_counted(reclaim_bin, raster, out, prefix=(), extra=()):
    return peak_threads([*prefix, reclaim_bin, "indices", "--input", str(raster), *GENERIC, "--index", "ndvi",
                         "--readers", "1", "--log-format", "json", "--out", str(out), *extra])


def expected_peak(compute, gdal_threads, outputs=1, readers=1):
    # main + readers + compute workers + the writer + one encoder per COG (streaming writer)
    # + GDAL's compression pool (none with one thread: the encoder compresses itself)
    return 1 + readers + compute + 1 + outputs + (gdal_threads if gdal_threads > 1 else 0)


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs Linux CPU affinity")
def test_threads_follow_the_affinity_mask(reclaim_bin, big_scene, tmp_path):
    """Under `taskset -c 0` (or a Slurm cpuset) a run uses one CPU's worth of threads: the
    defaults come from the affinity mask, not from the machine's CPU count."""
    cpus = sorted(os.sched_getaffinity(0))
    one = ["taskset", "-c", str(cpus[0])]
    peak, events = run_counted(reclaim_bin, big_scene, tmp_path / "one", one)
    assert peak <= expected_peak(1, 1), f"{peak} threads on one CPU"
    start = next(e for e in events if e["event"] == "start")
    assert start["threads"] == {"compute": 1, "readers": 1, "gdal": 1}, start
    if len(cpus) < 2:
        pytest.skip("one CPU only: cannot compare with two")
    two = ["taskset", "-c", f"{cpus[0]},{cpus[1]}"]
    peak2, events = run_counted(reclaim_bin, big_scene, tmp_path / "two", two)
    start = next(e for e in events if e["event"] == "start")
    assert start["threads"] == {"compute": 2, "readers": 1, "gdal": 2}, start
    assert peak2 <= expected_peak(2, 2) and peak2 > peak, (peak, peak2)


def test_threads_option_bounds_the_gdal_encoders_too(reclaim_bin, big_scene, tmp_path):
    """--threads 1 on a machine with more CPUs: one compute worker and one compression thread
    (GDAL's COG encoder used every CPU whatever --threads said)."""
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs 2 CPUs to tell --threads 1 from the default")
    peak, events = run_counted(reclaim_bin, big_scene, tmp_path / "t1", extra=["--threads", "1"])
    assert peak <= expected_peak(1, 1), f"{peak} threads with --threads 1"
    start = next(e for e in events if e["event"] == "start")
    assert start["threads"] == {"compute": 1, "readers": 1, "gdal": 1}, start
