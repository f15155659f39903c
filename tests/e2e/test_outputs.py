"""What a run does to its output folder (docs/reliability.md): two runs never write one folder
at once, a run that cannot start leaves nothing behind, a finished run's outputs are replaced
only with --overwrite (and then its manifest goes first), and scratch files that would not fit
the disk are refused before anything is written."""
import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import time

import numpy as np
import pytest
from osgeo import gdal, ogr

from conftest import run_reclaim, s2_like_planes, utm49_srs, write_raster

gdal.UseExceptions()
EXIT_USAGE, EXIT_INPUT, EXIT_IO = 2, 3, 4
GT = (600000.0, 10.0, 0.0, 4300000.0, 0.0, -10.0)


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    """Big enough that a run lasts a few seconds on two cores, so a second run meets it."""
    rng = np.random.default_rng(10)
    bands, scl = s2_like_planes(rng, 1536, 1536)
    return write_raster(tmp_path_factory.mktemp("outputs") / "scene.tif", bands + [scl], GT, utm49_srs())


def write_zones(path):
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = ds.CreateLayer("z", utm49_srs(), ogr.wkbPolygon)
    f = ogr.Feature(layer.GetLayerDefn())
    f.SetGeometry(ogr.CreateGeometryFromWkt("POLYGON((600100 4299900,600400 4299900,600400 4299600,600100 4299900))"))
    layer.CreateFeature(f)
    ds = None
    return path


def one_error_line(stderr):
    lines = [l for l in stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("reclaim: error: "), stderr
    return lines[0]


def digests(folder):
    """sha256 of every file under folder (hidden ones too), by relative path."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def hidden(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob(".*"))


def pixels(path):
    ds = gdal.Open(str(path))
    band = ds.GetRasterBand(1)
    return band.Checksum(), band.ReadAsArray()


def test_two_runs_into_one_folder_one_wins(reclaim_bin, scene, tmp_path):
    """Both start at once: exactly one writes the folder, the other stops before writing,
    naming the folder and the run that holds it; the winner's COGs are a single run's."""
    out = tmp_path / "o"
    cmd = [reclaim_bin, "indices", "--input", str(scene), "--index", "ndvi,evi,bsi", "--out", str(out), "--quiet"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(timeout=300), p.stderr.read(), p.pid) for p in procs]
    assert sorted(rc for rc, _, _ in results) == [0, EXIT_IO], results
    (_, _, winner), (_, err, _) = sorted(results, key=lambda r: r[0])
    assert one_error_line(err) == \
        f"reclaim: error: {out}: is being written by another reclaim run (pid {winner})"
    assert sorted(os.listdir(out)) == ["bsi.tif", "evi.tif", "ndvi.tif"]  # no temporaries, no lock file
    single = tmp_path / "single"
    run_reclaim(reclaim_bin, "indices", "--input", scene, "--index", "ndvi,evi,bsi", "--out", single, "--quiet")
    for name in ("ndvi", "evi", "bsi"):
        (sum_a, a), (sum_b, b) = pixels(out / f"{name}.tif"), pixels(single / f"{name}.tif")
        assert sum_a == sum_b and np.array_equal(a, b, equal_nan=True), name
        assert gdal.Info(str(out / f"{name}.tif"), format="json")["metadata"]["IMAGE_STRUCTURE"]["LAYOUT"] == "COG"


def test_a_held_folder_is_refused_before_anything_is_written(reclaim_bin, scene, tmp_path):
    """The lock is flock(2) on <out>/.reclaim.lock: held here as another run would hold it."""
    out = tmp_path / "o"
    run_reclaim(reclaim_bin, "indices", "--input", scene, "--index", "ndvi", "--out", out, "--quiet")
    before = digests(out)
    with open(out / ".reclaim.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        for args in (["indices", "--input", scene, "--index", "evi", "--quiet"],
                     ["change", "--before", scene, "--after", scene, "--quiet"],
                     ["synth", "--width", "64", "--height", "64"]):
            proc = run_reclaim(reclaim_bin, *args, "--out", out, check=False)
            assert proc.returncode == EXIT_IO, proc.stderr
            assert one_error_line(proc.stderr) == \
                f"reclaim: error: {out}: is being written by another reclaim run (pid {os.getpid()})"
        # A single-file output in that folder shares its lock: refused too.
        proc = run_reclaim(reclaim_bin, "zonal", "--raster", out / "ndvi.tif", "--zones",
                           write_zones(tmp_path / "z.gpkg"), "--out", out / "z.csv", "--quiet", check=False)
        assert proc.returncode == EXIT_IO and "is being written by another reclaim run" in proc.stderr, proc.stderr
        before[".reclaim.lock"] = hashlib.sha256(f"{os.getpid()}\n".encode()).hexdigest()
        assert digests(out) == before  # nothing written, nothing removed
    os.remove(out / ".reclaim.lock")
    assert hidden(out) == []


@pytest.mark.parametrize("case", ["indices_bad_stat", "change_bad_stat", "assess_bad_region_field",
                                  "assess_missing_sites", "synth_same_years", "trend_too_few_epochs"])
def test_a_run_that_cannot_start_leaves_no_folder(reclaim_bin, scene, tmp_path, case):
    """The --out folder used to be created before the zone options, the sites or the device
    were checked, and stayed behind, empty."""
    out = tmp_path / "new" / "o"
    zones = write_zones(tmp_path / "z.gpkg")
    args, code = {
        "indices_bad_stat": (["indices", "--input", scene, "--zones", zones, "--zone-stats", "avg"], EXIT_USAGE),
        "change_bad_stat": (["change", "--before", scene, "--after", scene, "--zones", zones, "--zone-stats", "avg"],
                            EXIT_USAGE),
        "assess_bad_region_field": (["assess", "--before", f"2019={scene}", "--after", f"2025={scene}", "--sites",
                                     zones, "--region-field", "county"], EXIT_USAGE),
        "assess_missing_sites": (["assess", "--before", f"2019={scene}", "--after", f"2025={scene}", "--sites",
                                  tmp_path / "nope.gpkg"], EXIT_INPUT),
        "synth_same_years": (["synth", "--before-year", "2020", "--after-year", "2020"], EXIT_USAGE),
        "trend_too_few_epochs": (["trend", "--epoch", f"2019={scene}"], EXIT_USAGE),
    }[case]
    quiet = [] if case.startswith("synth") else ["--quiet"]  # synth prints no log lines
    proc = run_reclaim(reclaim_bin, *args, *quiet, "--out", out, check=False)
    assert proc.returncode == code, proc.stderr
    one_error_line(proc.stderr)
    assert not (tmp_path / "new").exists(), f"left behind: {list((tmp_path / 'new').rglob('*'))}"


def huge_vrt(path, pixels_wanted):
    """A two-band UInt16 VRT of pixels_wanted pixels (no sources: it reads as zeros)."""
    width = 1 << 20
    height = -(-pixels_wanted // width)
    ds = gdal.GetDriverByName("VRT").Create(str(path), width, height, 2, gdal.GDT_UInt16)
    ds.SetGeoTransform(GT)
    ds.SetSpatialRef(utm49_srs())
    ds = None
    return path, width * height


@pytest.mark.parametrize("overviews", [True, False])
def test_scratch_that_does_not_fit_the_disk_is_refused_first(reclaim_bin, tmp_path, overviews):
    """With overviews, or a raster too wide for the streaming writer's budget, every output
    goes through an uncompressed scratch file (4 bytes a pixel): it used to be written with no
    check, filling the disk mid-run."""
    free = shutil.disk_usage(tmp_path).free
    vrt, count = huge_vrt(tmp_path / "huge.vrt", free // 4 + (1 << 30))
    out = tmp_path / "o"
    args = ["indices", "--input", vrt, "--sensor", "generic", "--bands", "red=1,nir=2", "--scale", "1e-4",
            "--index", "ndvi", "--out", out, "--quiet"]
    if overviews:
        args.append("--overviews")
    try:
        proc = subprocess.run([reclaim_bin, *map(str, args)], capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("the run started writing its scratch file instead of refusing")
    assert proc.returncode == EXIT_IO, proc.stderr
    line = one_error_line(proc.stderr)
    assert line.startswith(f"reclaim: error: {out}: not enough free space for the uncompressed scratch files: "
                           f"{count * 4} bytes"), line
    assert "available" in line
    assert not out.exists(), "nothing written, and the folder it made is gone"


@pytest.fixture(scope="module")
def demo(reclaim_bin, tmp_path_factory):
    out = tmp_path_factory.mktemp("outputs_demo") / "demo"
    run_reclaim(reclaim_bin, "synth", "--out", out, "--width", "400", "--height", "360")
    return out


def assess_args(demo, out, *extra):
    return ["assess", "--before", demo / "2019.tif", "--after", demo / "2025.tif", "--sites", demo / "sites.gpkg",
            "--id-field", "site_id", "--picture-size", "64", "--out", out, "--quiet", "--sensor", "sentinel2-l2a",
            *extra]


EXISTS = ": exists already; pass --overwrite to replace it, or choose another --out"


@pytest.mark.parametrize("command", ["assess", "indices", "zonal", "merge", "synth"])
def test_a_rerun_is_refused_and_the_first_outputs_stay_as_they_were(reclaim_bin, demo, tmp_path, command):
    out = tmp_path / "o"
    args = {
        "assess": assess_args(demo, out),
        "indices": ["indices", "--input", demo / "2019.tif", "--index", "ndvi,evi", "--out", out, "--quiet"],
        "zonal": ["zonal", "--raster", demo / "2019.tif", "--zones", demo / "sites.gpkg", "--partial",
                  out / "p.bin", "--histogram-range", "0,10000", "--out", out / "t.csv", "--quiet"],
        "merge": ["merge", demo.parent / "p.bin", "--out", out / "m.csv", "--quiet"],
        "synth": ["synth", "--width", "64", "--height", "64", "--out", out],
    }[command]
    if command == "zonal":
        out.mkdir()
    if command == "merge":
        out.mkdir()
        if not (demo.parent / "p.bin").exists():
            run_reclaim(reclaim_bin, "zonal", "--raster", demo / "2019.tif", "--zones", demo / "sites.gpkg",
                        "--stats", "count,mean", "--partial", demo.parent / "p.bin", "--quiet")
    run_reclaim(reclaim_bin, *args)
    before = digests(out)
    assert before and hidden(out) == []
    for extra in ([], ["--dry-run"]) if command in ("assess", "indices", "zonal") else ([],):
        proc = run_reclaim(reclaim_bin, *args, *extra, check=False)
        assert proc.returncode == EXIT_USAGE, proc.stderr
        line = one_error_line(proc.stderr)
        assert line.startswith(f"reclaim: error: {out}/") and line.endswith(EXISTS), line
        assert digests(out) == before, "a refused run changed the first run's outputs"
        assert hidden(out) == []


def test_overwrite_removes_the_old_manifest_before_writing(reclaim_bin, demo, tmp_path):
    """A re-run with --overwrite that fails after it has replaced some outputs must not leave
    the first run's manifest.json (the sign of a finished run) beside them."""
    out = tmp_path / "o"
    run_reclaim(reclaim_bin, *assess_args(demo, out))
    first = digests(out)
    assert "manifest.json" in first
    # A dry run reports what it would replace, and touches nothing.
    proc = run_reclaim(reclaim_bin, *assess_args(demo, out, "--overwrite", "--dry-run"))
    dndvi = [l for l in proc.stdout.splitlines() if l.strip().startswith(f"output:  {out / 'dndvi.tif'} (")]
    assert len(dndvi) == 1 and dndvi[0].endswith(", exists: replaced)"), proc.stdout
    assert f"{out / 'manifest.json'} (exists: replaced)" in proc.stdout, proc.stdout
    assert digests(out) == first
    # sites.csv cannot be written now (a folder is in its way): the run fails after the rasters.
    (out / "sites.csv").unlink()
    (out / "sites.csv").mkdir()
    proc = run_reclaim(reclaim_bin, *assess_args(demo, out, "--overwrite", "--carbon-rates", "2,4,6"), check=False)
    assert proc.returncode == EXIT_IO, proc.stderr
    # The run started (its warnings, e.g. a site outside the scenes, come first), then failed once.
    errors = [l for l in proc.stderr.splitlines() if l.startswith("reclaim: error: ")]
    assert len(errors) == 1 and "sites.csv" in errors[0], proc.stderr
    assert not (out / "manifest.json").exists(), "the first run's manifest was left beside new outputs"
    assert hidden(out) == []


def test_overwrite_gives_a_manifest_of_this_run_only(reclaim_bin, demo, tmp_path):
    out = tmp_path / "o"
    run_reclaim(reclaim_bin, *assess_args(demo, out, "--pictures-max", "3"))
    run_reclaim(reclaim_bin, *assess_args(demo, out, "--pictures-max", "1", "--overwrite"))
    manifest = json.load(open(out / "manifest.json"))
    pictures = sorted(os.path.basename(e["path"]) for e in manifest["outputs"] if e["role"] == "picture")
    site_pictures = [p for p in pictures if p.startswith("site-")]
    assert len(site_pictures) == 5 and len({p.split("_")[0] for p in site_pictures}) == 1, pictures
    assert {"legend.png", "overview.png"} <= set(pictures)
    # the earlier run's pictures of its second and third sites are gone (not part of this report)
    assert len(list((out / "pictures").glob("site-*.png"))) == 5
    for entry in manifest["outputs"]:
        data = open(entry["path"], "rb").read()
        assert entry["bytes"] == len(data) and entry["sha256"] == hashlib.sha256(data).hexdigest(), entry["path"]
    assert hidden(out) == []


@pytest.mark.parametrize("sig,overviews", [(signal.SIGTERM, True), (signal.SIGINT, False)])
def test_a_stopped_run_removes_its_temporaries(reclaim_bin, scene, tmp_path, sig, overviews):
    """SIGTERM/SIGINT mid-pass: the run stops at the next tile, removes its scratch files
    (--overviews: the scratch writer) or its COG encoders' temporaries (streaming), releases
    the lock and exits 128 + the signal. It used to die at once and leave them behind."""
    out = tmp_path / "o"
    cmd = [reclaim_bin, "indices", "--input", str(scene), "--index", "ndvi,evi,bsi", "--out", str(out), "--quiet",
           "--threads", "1", "--readers", "1", "--sensor", "sentinel2-l2a", "--boa-offset", "0"] + \
        (["--overviews"] if overviews else [])
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    temporary = ".partial.raw" if overviews else ".tmp"
    seen = []
    while proc.poll() is None and not seen:
        time.sleep(0.005)
        seen = [p for p in (os.listdir(out) if out.exists() else []) if p.endswith(temporary)]
    assert seen, f"the run ended before a temporary appeared: {proc.communicate()}"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + sig, err
    assert one_error_line(err) == \
        f"reclaim: error: interrupted by {signal.Signals(sig).name}: stopped, temporary files removed"
    assert os.listdir(out) == [], "temporaries or outputs left behind"
