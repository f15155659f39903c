"""The national-run drivers on a real cluster: a single-node Slurm (Debian's slurm-wlm and munge,
started here by tests/e2e/slurm-cluster.sh) runs the demo national job as a 4-task array through
scripts/slurm/national.sh; one task fails once (an injected fault), the driver resubmits only that
task, chains the merge, and the merged sites.csv is the very bytes of one `reclaim assess`. The
local runner (--local, reclaim run --jobs) is checked the same way without Slurm.

Slurm needs root; where it cannot start the Slurm tests skip with the reason, unless
RECLAIM_REQUIRE_SLURM=1 (.ci/run sets it), which turns that skip into a failure."""
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import run_reclaim

ROOT = Path(__file__).resolve().parents[2]
DRIVER = ROOT / "scripts" / "slurm" / "national.sh"
CLUSTER = ROOT / "tests" / "e2e" / "slurm-cluster.sh"


@pytest.fixture(scope="module")
def demo(reclaim_bin, tmp_path_factory):
    root = tmp_path_factory.mktemp("slurm")
    run_reclaim(reclaim_bin, "synth", "--out", root / "data", "--width", "1100", "--height", "1000")
    assess = ('before = "data/2019.tif"\nafter = "data/2025.tif"\nsites = "data/sites.gpkg"\n'
              'id-field = "site_id"\nsensor = "sentinel2-l2a"\nregion-field = "status"\n')
    (root / "assess.toml").write_text(assess)
    job = root / "job.toml"
    job.write_text(assess + "unit-size = 256\n")
    single = root / "single"
    run_reclaim(reclaim_bin, "assess", "--job", root / "assess.toml", "--no-pictures", "--out", single, "--quiet")
    return root, job, single


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    state = tmp_path_factory.mktemp("slurm-state")
    proc = subprocess.run([str(CLUSTER), "start", str(state)], capture_output=True, text=True)
    if proc.returncode == 77:
        reason = "Slurm cannot start here: " + proc.stderr.strip()
        if os.environ.get("RECLAIM_REQUIRE_SLURM") == "1":
            pytest.fail(reason + " (RECLAIM_REQUIRE_SLURM=1)")
        pytest.skip(reason)
    assert proc.returncode == 0, proc.stderr
    env = dict(os.environ, SLURM_CONF=str(state / "slurm.conf"))
    yield env
    subprocess.run([str(CLUSTER), "stop", str(state)], check=False)


def driver(reclaim_bin, env, *args):
    return subprocess.run([str(DRIVER), "--reclaim", str(reclaim_bin), *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=600)


def shard_of(reclaim_bin, run_dir, unit, shards):
    for k in range(shards):
        listed = run_reclaim(reclaim_bin, "run", run_dir, "--pending", "--shard", f"{k}/{shards}").stdout.split()
        if str(unit) in listed:
            return k
    raise AssertionError(f"unit {unit} is in no shard")


def test_slurm_array_retries_the_failed_task_and_merges_the_single_runs_bytes(reclaim_bin, demo, slurm, tmp_path):
    root, job, single = demo
    run_dir = root / "slurm-run"
    run_reclaim(reclaim_bin, "plan", job, "--out", run_dir, "--quiet")
    units = len(json.loads((run_dir / "plan.json").read_text())["units"])
    assert units > 4, "the test wants more units than tasks"
    failing = units // 2
    shard = shard_of(reclaim_bin, run_dir, failing, 4)
    env = dict(slurm, RECLAIM_FAIL_UNIT=str(failing), RECLAIM_FAIL_ONCE_FILE=str(tmp_path / "failed-once"))
    proc = driver(reclaim_bin, env, "--tasks", 4, "--poll", 1, job, run_dir)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "failed-once").exists(), "the fault was injected"
    assert f"retry 1 of 2: shards {shard}\n" in proc.stderr
    # Two array jobs: the first ran the 4 shards (the failing one exited 4), the retry only that one.
    rcs = {}
    for f in (run_dir / "logs").glob("task-*.rc"):
        job_id, task = re.fullmatch(r"task-(\d+)_(\d+)\.rc", f.name).groups()
        rcs.setdefault(int(job_id), {})[int(task)] = int(f.read_text())
    first, retry = sorted(rcs)
    assert rcs[first] == {k: (4 if k == shard else 0) for k in range(4)}
    assert rcs[retry] == {shard: 0}
    merges = list((run_dir / "logs").glob("merge-*.rc"))
    assert [m.read_text().strip() for m in merges] == ["0"], "one merge ran, chained after the retry"
    assert (run_dir / "sites.csv").read_bytes() == (single / "sites.csv").read_bytes()
    merged = json.loads((run_dir / "summary.json").read_text())
    whole = json.loads((single / "summary.json").read_text())
    assert merged["missing_units"] == [] and merged["totals"] == whole["totals"]

    # Run again: every unit is complete, nothing is submitted but the merge.
    again = driver(reclaim_bin, slurm, "--tasks", 4, "--poll", 1, job, run_dir)
    assert again.returncode == 0, again.stderr
    assert "every unit complete" in again.stderr and "array job" not in again.stderr


def test_slurm_driver_does_not_retry_a_refused_input(reclaim_bin, demo, slurm, tmp_path):
    root, job, _ = demo
    changed = tmp_path / "job.toml"
    changed.write_text(job.read_text().replace("data/", str(root / "data") + "/"))
    run_dir = tmp_path / "run"
    run_reclaim(reclaim_bin, "plan", changed, "--out", run_dir, "--quiet")
    changed.write_text(changed.read_text() + "# edited after the plan\n")
    proc = driver(reclaim_bin, slurm, "--tasks", 2, "--poll", 1, changed, run_dir)
    assert proc.returncode == 3, proc.stderr
    assert "refused its input (exit 3)" in proc.stderr and "retry" not in proc.stderr
    assert not (run_dir / "sites.csv").exists()


def test_local_driver_retries_and_merges_the_single_runs_bytes(reclaim_bin, demo, tmp_path):
    root, job, single = demo
    run_dir = tmp_path / "run"
    env = dict(os.environ, RECLAIM_FAIL_UNIT="3", RECLAIM_FAIL_ONCE_FILE=str(tmp_path / "failed-once"))
    proc = driver(reclaim_bin, env, "--local", "--tasks", 3, job, run_dir)
    assert proc.returncode == 0, proc.stderr
    assert "retry 1 of 2: 3\n" in proc.stderr, proc.stderr
    assert (run_dir / "sites.csv").read_bytes() == (single / "sites.csv").read_bytes()


def test_jobs_run_every_unit_once_and_report_the_worst_exit(reclaim_bin, demo, tmp_path):
    root, job, single = demo
    run_dir = tmp_path / "run"
    run_reclaim(reclaim_bin, "plan", job, "--out", run_dir, "--quiet")
    units = len(json.loads((run_dir / "plan.json").read_text())["units"])
    assert run_reclaim(reclaim_bin, "run", run_dir, "--pending-shards", "3").stdout == "0,1,2\n"
    env = dict(os.environ, RECLAIM_FAIL_UNIT="2")  # fails every time
    proc = subprocess.run([str(reclaim_bin), "run", str(run_dir), "--jobs", "3", "--quiet"], capture_output=True,
                          text=True, env=env)
    assert proc.returncode == 4, proc.stderr
    # The other units of the failing process ran all the same: only unit 2 is pending.
    assert run_reclaim(reclaim_bin, "run", run_dir, "--pending").stdout.split() == ["2"]
    shard = shard_of(reclaim_bin, run_dir, 2, 3)
    assert run_reclaim(reclaim_bin, "run", run_dir, "--pending-shards", "3").stdout == f"{shard}\n"
    run_reclaim(reclaim_bin, "run", run_dir, "--jobs", "2", "--quiet")
    assert run_reclaim(reclaim_bin, "run", run_dir, "--pending").stdout == ""
    done = [json.loads(p.read_text())["unit"] for p in (run_dir / "units").glob("*/done.json")]
    assert sorted(done) == list(range(units))
    run_reclaim(reclaim_bin, "merge", run_dir, "--quiet")
    assert (run_dir / "sites.csv").read_bytes() == (single / "sites.csv").read_bytes()


def test_by_hand_array_then_chained_merge(reclaim_bin, demo, slurm, tmp_path):
    """docs/national.md's by-hand commands: the array with RECLAIM_SHARDS, the merge chained
    with --dependency=afterok, on the demo job."""
    root, job, single = demo
    run_dir = tmp_path / "run"
    run_reclaim(reclaim_bin, "plan", job, "--out", run_dir, "--quiet")
    env = dict(slurm, RECLAIM=str(reclaim_bin))
    sbatch = ["sbatch", "--parsable", "-o", str(tmp_path / "%x-%A_%a.out")]
    array = subprocess.run([*sbatch, "--array=0-2%2", "--export=ALL,RECLAIM_SHARDS=3",
                            str(ROOT / "scripts/slurm/units.sbatch"), str(run_dir)],
                           capture_output=True, text=True, env=env, check=True).stdout.strip()
    subprocess.run([*sbatch, "--wait", f"--dependency=afterok:{array}", str(ROOT / "scripts/slurm/merge.sbatch"),
                    str(run_dir)], capture_output=True, text=True, env=env, check=True, timeout=300)
    assert sorted(p.name for p in (run_dir / "logs").glob("task-*.rc")) == [f"task-{array}_{k}.rc" for k in range(3)]
    assert (run_dir / "sites.csv").read_bytes() == (single / "sites.csv").read_bytes()
