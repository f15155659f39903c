"""National runs end to end (reclaim plan, reclaim run, reclaim merge RUN/) on the demo data:
the merged tables are the very bytes of one `reclaim assess` over the same area (sites cut by
unit borders included), the national VRTs hold the single run's pixels, completed units are not
redone, a unit killed with -9 and run again writes the same bytes, shards partition the units,
and missing units, changed inputs and injected faults give the documented exit codes."""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import time

import numpy as np
import pytest
from osgeo import gdal

from conftest import run_reclaim

gdal.UseExceptions()


def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def demo(reclaim_bin, tmp_path_factory):
    root = tmp_path_factory.mktemp("national")
    run_reclaim(reclaim_bin, "synth", "--out", root / "data", "--width", "1100", "--height", "1000")
    # An intermediate epoch (the after scene again, as 2022) exercises the per-site series.
    job = root / "job.toml"
    job.write_text('before = "data/2019.tif"\nafter = "data/2025.tif"\nsites = "data/sites.gpkg"\n'
                   'id-field = "site_id"\nsensor = "sentinel2-l2a"\nepoch = ["2022=data/2025.tif"]\n'
                   'region-field = "status"\n')
    return root, job


@pytest.fixture(scope="module")
def single(reclaim_bin, demo):
    root, job = demo
    out = root / "single"
    run_reclaim(reclaim_bin, "assess", "--job", job, "--no-pictures", "--out", out, "--quiet")
    return out


def plan(reclaim_bin, root, job, name, *extra):
    run_dir = root / name
    run_reclaim(reclaim_bin, "plan", job, "--out", run_dir, "--unit-size", "256", "--quiet", *extra)
    return run_dir, json.loads((run_dir / "plan.json").read_text())


@pytest.fixture(scope="module")
def national(reclaim_bin, demo):
    root, job = demo
    run_dir, doc = plan(reclaim_bin, root, job, "run", "--keep-rasters", "units")
    run_reclaim(reclaim_bin, "run", run_dir, "--quiet")
    run_reclaim(reclaim_bin, "merge", run_dir, "--quiet")
    return run_dir, doc


def test_plan_keeps_only_units_that_touch_a_site_and_cuts_some_sites(national):
    run_dir, doc = national
    units = doc["units"]
    grid = doc["grid"]
    ux, uy = doc["unit_size"]
    assert ux >= 256 and ux % grid["block"][0] == 0, "whole blocks"
    all_units = -(-grid["width"] // ux) * -(-grid["height"] // uy)
    assert 0 < len(units) < all_units, "units without a site are left out"
    per_site = {}
    for u in units:
        assert u["window"][2] <= ux and u["window"][3] <= uy and u["sites"]
        for s in u["sites"]:
            per_site[s] = per_site.get(s, 0) + 1
    assert max(per_site.values()) >= 2, "the test needs a site cut by a unit border"
    assert len({u["id"] for u in units}) == len(units)
    gj = json.loads((run_dir / "units.geojson").read_text())
    assert len(gj["features"]) == len(units)
    lon, lat = gj["features"][0]["geometry"]["coordinates"][0][0]
    assert 100 < lon < 120 and 30 < lat < 45, "RFC 7946: WGS 84 longitude, latitude"


def test_merged_tables_are_the_single_runs_bytes(national, single):
    run_dir, _ = national
    assert (run_dir / "sites.csv").read_bytes() == (single / "sites.csv").read_bytes()
    merged = json.loads((run_dir / "summary.json").read_text())
    whole = json.loads((single / "summary.json").read_text())
    assert merged["missing_units"] == []
    for key in ("totals", "regions"):
        assert merged.get(key) == whole.get(key), key


def test_national_vrts_hold_the_single_runs_pixels_where_units_are(national, single):
    run_dir, doc = national
    for name in ("change_class", "dndvi", "2019_ndvi", "2025_ndvi"):
        vrt = gdal.Open(str(run_dir / f"{name}.vrt"))
        ref = gdal.Open(str(single / f"{name}.tif"))
        assert vrt.GetGeoTransform() == ref.GetGeoTransform()
        a, b = vrt.ReadAsArray(), ref.ReadAsArray()
        for u in doc["units"]:
            x, y, w, h = u["window"]
            assert np.array_equal(a[y:y + h, x:x + w], b[y:y + h, x:x + w], equal_nan=True), (name, u["index"])
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["national_run"]["complete"] == len(doc["units"])
    assert {o["path"].split("/")[-1] for o in manifest["outputs"]} >= {"sites.csv", "change_class.vrt"}


def check_site_windows(run_dir, doc, single, sites_path, min_sites):
    """The site-window COGs of a keep-rasters = "sites" run: each holds exactly the single run's
    pixels; no pixel is in two of them; together they cover every site's box (read from the sites
    file with OGR and reprojected here) and less than the units; the national VRT spans the
    whole grid and holds the same pixels. Returns the number of windows."""
    from osgeo import ogr, osr
    ref = gdal.Open(str(single / "dndvi.tif"))
    gt = ref.GetGeoTransform()
    covered = np.zeros((ref.RasterYSize, ref.RasterXSize), dtype=np.int32)
    windows = sorted((run_dir / "units").glob("*/windows/*/dndvi.tif"))
    for path in windows:
        for name in ("change_class", "dndvi", "2019_ndvi", "2025_ndvi"):
            part = gdal.Open(str(path.parent / f"{name}.tif"))
            assert part.GetMetadata("IMAGE_STRUCTURE").get("LAYOUT") == "COG"
            pgt = part.GetGeoTransform()
            x, y = round((pgt[0] - gt[0]) / gt[1]), round((pgt[3] - gt[3]) / gt[5])
            w, h = part.RasterXSize, part.RasterYSize
            whole = gdal.Open(str(single / f"{name}.tif")).ReadAsArray(x, y, w, h)
            assert np.array_equal(part.ReadAsArray(), whole, equal_nan=True), (path, name)
            if name == "dndvi":
                covered[y:y + h, x:x + w] += 1
    assert covered.max() == 1, "no pixel is written twice"
    unit_pixels = sum(u["window"][2] * u["window"][3] for u in doc["units"])
    assert covered.sum() < 0.8 * unit_pixels, (covered.sum(), unit_pixels)
    sites = ogr.Open(str(sites_path))  # held: the layer dies with it
    layer = sites.GetLayer()
    to_grid = osr.CoordinateTransformation(layer.GetSpatialRef(), ref.GetSpatialRef())
    boxes = 0
    for feature in layer:
        geometry = feature.GetGeometryRef().Clone()
        geometry.Transform(to_grid)
        x0, x1, y0, y1 = geometry.GetEnvelope()
        c0, c1 = int(np.floor((x0 - gt[0]) / gt[1])), int(np.ceil((x1 - gt[0]) / gt[1]))
        r0, r1 = int(np.floor((y1 - gt[3]) / gt[5])), int(np.ceil((y0 - gt[3]) / gt[5]))
        c0, r0, c1, r1 = max(c0, 0), max(r0, 0), min(c1, ref.RasterXSize), min(r1, ref.RasterYSize)
        if c0 < c1 and r0 < r1:
            assert covered[r0:r1, c0:c1].all(), feature.GetFID()
            boxes += 1
    assert boxes >= min_sites
    vrt = gdal.Open(str(run_dir / "dndvi.vrt"))
    assert vrt.GetGeoTransform() == gt and (vrt.RasterXSize, vrt.RasterYSize) == (ref.RasterXSize, ref.RasterYSize)
    a, b = vrt.ReadAsArray(), ref.ReadAsArray()
    assert np.array_equal(a[covered == 1], b[covered == 1], equal_nan=True)
    return len(windows)


def test_keep_rasters_sites_writes_each_site_window_with_the_single_runs_pixels(reclaim_bin, demo, single):
    """keep-rasters = "sites": each unit writes COGs of its sites' windows only (cut to the unit,
    overlapping ones joined), each holding exactly the single run's pixels there (check_site_windows);
    the tables are unchanged."""
    root, job = demo
    run_dir, doc = plan(reclaim_bin, root, job, "sites", "--keep-rasters", "sites")
    run_reclaim(reclaim_bin, "run", run_dir, "--quiet")
    run_reclaim(reclaim_bin, "merge", run_dir, "--quiet")
    assert (run_dir / "sites.csv").read_bytes() == (single / "sites.csv").read_bytes()
    windows = check_site_windows(run_dir, doc, single, root / "data" / "sites.gpkg", 5)
    assert windows > len(doc["units"]), "the test needs a unit with several windows"
    done = json.loads((run_dir / "units" / doc["units"][0]["id"] / "done.json").read_text())
    assert any("/windows/000/dndvi.tif" in o["path"] for o in done["outputs"])
    # merge --cog: one COG per raster beside its VRT, the same pixels, listed in the manifest
    run_reclaim(reclaim_bin, "merge", run_dir, "--cog", "--overwrite", "--quiet")
    for name in ("change_class", "dndvi", "2019_ndvi", "2025_ndvi"):
        cog = gdal.Open(str(run_dir / f"{name}.tif"))
        vrt = gdal.Open(str(run_dir / f"{name}.vrt"))
        assert cog.GetMetadata("IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert cog.GetGeoTransform() == vrt.GetGeoTransform()
        assert np.array_equal(cog.ReadAsArray(), vrt.ReadAsArray(), equal_nan=True), name
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert "dndvi.tif" in {o["path"].split("/")[-1] for o in manifest["outputs"] if o["role"] == "raster"}
    # the class names travel: single run's COG, national VRT and national COG (the band's
    # metadata first: GDAL 3.6 loads a GeoTIFF's .aux.xml lazily)
    names = []
    for path in (single / "change_class.tif", run_dir / "change_class.vrt", run_dir / "change_class.tif"):
        ds = gdal.Open(str(path))  # held while its band is read
        band = ds.GetRasterBand(1)
        band.GetMetadata()
        names.append(band.GetCategoryNames())
    assert names[0][2] == "revegetated" and names[1] == names[0] and names[2] == names[0]


def test_keep_rasters_sites_joins_near_windows_when_a_unit_has_many(reclaim_bin, demo, tmp_path):
    """144 small sites 60 px apart in one unit (144 separate windows): near windows are joined
    until at most 64 are left (each window's files stay open while the unit runs); the windows
    still cover every site, once each, with the single run's pixels."""
    from osgeo import ogr, osr
    root, job = demo
    scene = gdal.Open(str(root / "data" / "2019.tif"))
    gt = scene.GetGeoTransform()
    srs = osr.SpatialReference(wkt=scene.GetProjection())
    sites = tmp_path / "many.gpkg"
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(sites))
    layer = ds.CreateLayer("sites", srs, ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("site_id", ogr.OFTString))
    layer.CreateField(ogr.FieldDefn("status", ogr.OFTString))  # the job's region-field
    for i in range(12):
        for j in range(12):
            x, y = gt[0] + (100 + 60 * i) * gt[1], gt[3] + (100 + 60 * j) * gt[5]
            ring = f"POLYGON(({x} {y},{x + 25} {y},{x + 25} {y - 25},{x} {y - 25},{x} {y}))"
            feature = ogr.Feature(layer.GetLayerDefn())
            feature.SetField("site_id", f"M{i:02d}{j:02d}")
            feature.SetField("status", "north" if j < 6 else "south")
            feature.SetGeometry(ogr.CreateGeometryFromWkt(ring))
            layer.CreateFeature(feature)
    ds = None
    many = tmp_path / "job.toml"
    many.write_text(job.read_text().replace("data/", f"{root}/data/").replace(f"{root}/data/sites.gpkg", str(sites)))
    single = tmp_path / "single"
    run_reclaim(reclaim_bin, "assess", "--job", many, "--no-pictures", "--out", single, "--quiet")
    run_dir = tmp_path / "run"
    run_reclaim(reclaim_bin, "plan", many, "--out", run_dir, "--unit-size", "2048", "--keep-rasters", "sites",
                "--quiet")
    doc = json.loads((run_dir / "plan.json").read_text())
    assert len(doc["units"]) == 1 and len(doc["units"][0]["sites"]) == 144
    run_reclaim(reclaim_bin, "run", run_dir, "--quiet")
    run_reclaim(reclaim_bin, "merge", run_dir, "--quiet")
    assert (run_dir / "sites.csv").read_bytes() == (single / "sites.csv").read_bytes()
    windows = check_site_windows(run_dir, doc, single, sites, 144)
    assert 1 < windows <= 64, windows


def test_units_without_full_rasters_read_only_the_tiles_near_sites(reclaim_bin, demo, tmp_path):
    """With keep-rasters none, a unit reads only the tiles (512 px) that meet a site's window:
    two sites near each other in one 1024-px unit of a 1100 x 1000 grid leave half its tiles unread, and the merged
    table is still the single run's bytes (the single run reads every tile). The intermediate
    epoch's pass skips tiles alike."""
    root, job = demo
    sites = tmp_path / "two.gpkg"
    gdal.VectorTranslate(str(sites), str(root / "data" / "sites.gpkg"), where="site_id IN ('S003', 'S004')")
    two = tmp_path / "job.toml"
    two.write_text(job.read_text().replace("data/", f"{root}/data/").replace(f"{root}/data/sites.gpkg", str(sites)))
    single = tmp_path / "single"
    run_reclaim(reclaim_bin, "assess", "--job", two, "--no-pictures", "--out", single, "--quiet")
    run_dir = tmp_path / "run"
    run_reclaim(reclaim_bin, "plan", two, "--out", run_dir, "--unit-size", "1024", "--quiet")
    proc = run_reclaim(reclaim_bin, "run", run_dir, "--log-format", "json")
    plans = [e for e in map(json.loads, proc.stderr.splitlines()) if e.get("event") == "plan"]
    assert {e["label"] for e in plans} == {"2019->2025", "2022"}
    read = sum(e["tiles"] * e["tile_width"] * e["tile_height"] for e in plans)
    assert all(e["tile_width"] <= 512 for e in plans if e["width"] > 512)
    doc = json.loads((run_dir / "plan.json").read_text())
    units = doc["units"]
    assert read < 2 * sum(u["window"][2] * u["window"][3] for u in units) * 0.75, "tiles far from the sites unread"
    # The plan's estimate (docs/national.md, Estimates) counts the same tiles as the run read:
    # a fixed cost plus the pixels read x the planes of every pass at the calibration rate.
    calibration = doc["calibration"]
    unit = next(u for u in units if u["sites"])
    events = list(map(json.loads, proc.stderr.splitlines()))
    main = next(e for e in events if e.get("event") == "pass_done" and e["label"] == "2019->2025")
    planes = sum(e["input_planes"] for e in plans)
    expected = calibration["unit_seconds"] + main["pixels"] * planes / calibration["input_pixels_per_second"]
    assert len(units) == 1 and unit["estimate"]["seconds"] == pytest.approx(expected, rel=1e-9)
    run_reclaim(reclaim_bin, "merge", run_dir, "--quiet")
    assert (run_dir / "sites.csv").read_bytes() == (single / "sites.csv").read_bytes()
    assert len((single / "sites.csv").read_text().splitlines()) == 3


def test_merged_pictures_are_the_single_runs_bytes(reclaim_bin, demo, national, tmp_path):
    """Each unit captures its part of every site's picture crop (and of the overview) on the
    crop's own sample lattice; the merge pastes them: every site picture (and its georeferencing)
    is byte-identical to one `reclaim assess`, sites cut by unit borders included, and the
    overview equals the single run's wherever units cover the grid."""
    root, job = demo
    run_dir, doc = national
    single = tmp_path / "single"
    run_reclaim(reclaim_bin, "assess", "--job", job, "--out", single, "--quiet")
    site_files = sorted(p.name for p in (single / "pictures").iterdir() if not p.name.startswith("overview"))
    assert len(site_files) > 20
    for name in site_files:
        assert (run_dir / "pictures" / name).read_bytes() == (single / "pictures" / name).read_bytes(), name
    # A picture whose window spans several units was assembled from several pieces.
    for u in doc["units"]:
        done = json.loads((run_dir / "units" / u["id"] / "done.json").read_text())
        assert any(o["path"].endswith("crops.rzc") for o in done["outputs"])
    assert max(len(u["sites"]) for u in doc["units"]) > 1
    merged = gdal.Open(str(run_dir / "pictures" / "overview.png")).ReadAsArray()
    whole = gdal.Open(str(single / "pictures" / "overview.png")).ReadAsArray()
    covered = merged[3] > 0
    assert 0.3 < covered.mean() and np.array_equal(merged[:, covered], whole[:, covered])
    html = (run_dir / "report.html").read_text()
    pictured = len([n for n in site_files if n.endswith("_ndvi_before.png")])
    assert html.count("<figure><img") == 5 * pictured + 1  # + the overview


def test_merge_cog_without_kept_rasters_is_refused(reclaim_bin, demo, tmp_path):
    root, job = demo
    run_dir = tmp_path / "run"
    run_reclaim(reclaim_bin, "plan", job, "--out", run_dir, "--unit-size", "1024", "--quiet")
    run_reclaim(reclaim_bin, "run", run_dir, "--quiet")
    proc = run_reclaim(reclaim_bin, "merge", run_dir, "--cog", check=False)
    assert proc.returncode == 2 and "--cog: the plan keeps no raster" in proc.stderr, proc.stderr
    assert not (run_dir / "sites.csv").exists()


def test_a_complete_unit_is_not_run_again(reclaim_bin, national):
    run_dir, doc = national
    partial = run_dir / "units" / doc["units"][0]["id"] / "partial.rzp"
    before = partial.stat().st_mtime_ns
    proc = run_reclaim(reclaim_bin, "run", run_dir, "--unit", "0")
    assert "complete already" in proc.stderr
    assert partial.stat().st_mtime_ns == before
    # A damaged output makes the unit incomplete: it is run again, to the same bytes.
    good = sha(partial)
    partial.write_bytes(partial.read_bytes()[:-1] + b"x")
    run_reclaim(reclaim_bin, "run", run_dir, "--unit", "0", "--quiet")
    assert sha(partial) == good


def test_kill_9_then_run_again_gives_the_same_bytes(reclaim_bin, demo, national):
    root, job = demo
    run_dir, doc = national
    unit = max(range(len(doc["units"])), key=lambda i: len(doc["units"][i]["sites"]))
    ref_dir = run_dir / "units" / doc["units"][unit]["id"]
    reference = {p.name: sha(p) for p in ref_dir.iterdir() if p.suffix in (".rzp", ".rzc", ".tif")}
    rng = np.random.default_rng(int(os.environ.get("RECLAIM_KILL_SEED", "7")))
    for attempt in range(3):
        fresh, _ = plan(reclaim_bin, root, job, f"killed{attempt}", "--keep-rasters", "units")
        proc = subprocess.Popen([reclaim_bin, "run", str(fresh), "--unit", str(unit), "--quiet"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(float(rng.uniform(0.02, 0.4)))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        unit_dir = fresh / "units" / doc["units"][unit]["id"]
        # Whether or not the kill met a temporary, one of the dead process's is there now.
        unit_dir.mkdir(parents=True, exist_ok=True)  # (a kill before the unit began)
        (unit_dir / f".dndvi.tif.{proc.pid}-0badf00d.tmp").write_bytes(b"half written")
        run_reclaim(reclaim_bin, "run", fresh, "--unit", str(unit), "--quiet")
        assert {p.name: sha(p) for p in unit_dir.iterdir() if p.suffix in (".rzp", ".rzc", ".tif")} == reference
        assert not [p for p in unit_dir.iterdir() if p.name.startswith(".") and "lock" not in p.name]
        shutil.rmtree(fresh)


@pytest.mark.parametrize("jobs", [None, "2"])
def test_sigterm_stops_at_a_tile_boundary_with_143_and_no_final_named_partial(reclaim_bin, demo, national, jobs):
    """SIGTERM (a scheduler's preemption) during `reclaim run` (alone, or the parent of --jobs):
    exit 143, every unit either complete (its done record there) or without its partial, no
    temporaries; the run then completes to the uninterrupted bytes."""
    root, job = demo
    run_dir, doc = national
    rng = np.random.default_rng(11)
    stopped = 0
    for attempt in range(4):
        fresh, _ = plan(reclaim_bin, root, job, f"term{jobs}-{attempt}", "--keep-rasters", "units")
        cmd = [reclaim_bin, "run", str(fresh), "--quiet"] + (["--jobs", jobs] if jobs else [])
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        # Once a unit has begun (a signal before main() meets the default action, as for any
        # program; start-up is slow under the sanitizers), then at a random moment.
        deadline = time.monotonic() + 60
        while not any((fresh / "units").iterdir()) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(float(rng.uniform(0.0, 0.5)))
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate()
        assert proc.returncode in (0, 143), err
        if proc.returncode == 143:
            stopped += 1
            assert "interrupted by SIGTERM" in err
        for unit_dir in (fresh / "units").iterdir():
            names = {p.name for p in unit_dir.iterdir()}
            assert not [n for n in names if n.startswith(".") and "lock" not in n], names
            if "done.json" not in names:
                # An incomplete unit: no partial (its result); a raster it finished before the
                # stop is whole (renamed when complete) and is rewritten by the rerun.
                assert "partial.rzp" not in names, names
                for n in names:
                    if n.endswith(".tif"):
                        assert gdal.Open(str(unit_dir / n)).GetRasterBand(1).Checksum() >= 0
        run_reclaim(reclaim_bin, "run", fresh, "--quiet")
        for u in doc["units"]:
            got = fresh / "units" / u["id"] / "partial.rzp"
            assert sha(got) == sha(run_dir / "units" / u["id"] / "partial.rzp")
        shutil.rmtree(fresh)
    assert stopped >= 1, "no SIGTERM landed during the run: the test needs a slower run"


def test_shards_partition_the_units_and_follow_slurm(reclaim_bin, demo):
    root, job = demo
    run_dir, doc = plan(reclaim_bin, root, job, "sharded")
    n = len(doc["units"])
    seen = []
    for k in range(3):
        env = dict(os.environ, SLURM_ARRAY_TASK_ID=str(k + 1), SLURM_ARRAY_TASK_MIN="1", SLURM_ARRAY_TASK_COUNT="3")
        proc = subprocess.run([reclaim_bin, "run", str(run_dir), "--log-format", "json"], env=env,
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        events = [json.loads(line) for line in proc.stderr.splitlines() if line.startswith("{")]
        mine = [e["unit"] for e in events if e.get("event") == "unit_done"]
        assert mine, f"shard {k} ran nothing"
        seen += mine
    assert sorted(seen) == list(range(n)), "every unit exactly once"
    # --shard K/N names the same share as the environment.
    proc = subprocess.run([reclaim_bin, "run", str(run_dir), "--shard", "0/3", "--log-format", "json"],
                          capture_output=True, text=True)
    assert proc.returncode == 0
    assert '"unit_done"' not in proc.stderr and '"unit_complete"' in proc.stderr


def test_merge_refuses_missing_units_unless_allowed(reclaim_bin, demo, single):
    root, job = demo
    run_dir, doc = plan(reclaim_bin, root, job, "partly")
    run_reclaim(reclaim_bin, "run", run_dir, "--units", f"1-{len(doc['units']) - 1}", "--quiet")
    proc = run_reclaim(reclaim_bin, "merge", run_dir, check=False)
    assert proc.returncode == 3
    assert "1 of" in proc.stderr and "not complete: 0" in proc.stderr and "--allow-missing" in proc.stderr
    assert not (run_dir / "sites.csv").exists()
    run_reclaim(reclaim_bin, "merge", run_dir, "--allow-missing", "--quiet")
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["missing_units"] and summary["missing_units"][0].startswith("0")
    # The gap is visible: the sites of unit 0 have fewer pixels than in the single run.
    assert (run_dir / "sites.csv").read_bytes() != (single / "sites.csv").read_bytes()


def test_injected_fault_is_retryable_and_the_retry_recovers(reclaim_bin, demo, tmp_path):
    root, job = demo
    run_dir, doc = plan(reclaim_bin, root, job, "faulty")
    env = dict(os.environ, RECLAIM_FAIL_UNIT="1", RECLAIM_FAIL_ONCE_FILE=str(tmp_path / "failed-once"))
    first = subprocess.run([reclaim_bin, "run", str(run_dir), "--unit", "1"], env=env, capture_output=True, text=True)
    assert first.returncode == 4 and "injected fault" in first.stderr
    assert not (run_dir / "units" / doc["units"][1]["id"] / "done.json").exists()
    again = subprocess.run([reclaim_bin, "run", str(run_dir), "--unit", "1"], env=env, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr


def test_a_changed_input_refuses_the_run(reclaim_bin, demo, tmp_path):
    root, job = demo
    copy = tmp_path / "job.toml"
    copy.write_text(job.read_text().replace('data/', f'{root}/data/'))
    run_dir, _ = plan(reclaim_bin, root, copy, "changed")
    copy.write_text(copy.read_text() + "carbon-rates = \"1,2,4\"\n")
    proc = run_reclaim(reclaim_bin, "run", run_dir, "--unit", "0", check=False)
    assert proc.returncode == 3 and "changed since the plan" in proc.stderr and str(copy) in proc.stderr


def test_checksum_inputs_catches_a_change_that_keeps_size_and_time(reclaim_bin, demo, tmp_path):
    """By default a scene is fingerprinted by size and modification time; with checksum-inputs
    the plan holds each scene's SHA-256 (hashlib's), and a rewrite that keeps both size and time
    is refused (exit 3)."""
    root, job = demo
    data = tmp_path / "data"
    shutil.copytree(root / "data", data)
    local = tmp_path / "job.toml"
    local.write_text(job.read_text())
    run_dir = tmp_path / "run"
    run_reclaim(reclaim_bin, "plan", local, "--out", run_dir, "--unit-size", "512", "--checksum-inputs", "--quiet")
    doc = json.loads((run_dir / "plan.json").read_text())
    scenes = {e["path"]: e for e in doc["inputs"]}
    scene = data / "2025.tif"
    assert scenes[str(scene)]["sha256"] == sha(scene)
    # Flip one byte near the end (pixel data), keeping the size and the modification time.
    st = scene.stat()
    raw = bytearray(scene.read_bytes())
    raw[-100] ^= 0xFF
    scene.write_bytes(bytes(raw))
    os.utime(scene, ns=(st.st_atime_ns, st.st_mtime_ns))
    proc = run_reclaim(reclaim_bin, "run", run_dir, "--quiet", check=False)
    assert proc.returncode == 3 and "checksum" in proc.stderr and str(scene) in proc.stderr, proc.stderr


def test_plan_refuses_assess_options_on_its_command_line_and_magnitude_rules(reclaim_bin, demo, tmp_path):
    root, job = demo
    proc = run_reclaim(reclaim_bin, "plan", job, "--out", tmp_path / "r", "--years", "6", check=False)
    assert proc.returncode == 2 and "--years" in proc.stderr and "job file" in proc.stderr
    rules = tmp_path / "rules.toml"
    rules.write_text('mode = "prepend"\n[[classes]]\nvalue = 20\nname = "large change"\ncolour = "#ff00ff"\n'
                     '[[rules]]\nclass = 20\nwhen = ["magnitude >= 3"]\n')
    gated = tmp_path / "gated.toml"
    gated.write_text(job.read_text().replace('data/', f'{root}/data/') + f'rules = "{rules}"\n')
    proc = run_reclaim(reclaim_bin, "plan", gated, "--out", tmp_path / "g", check=False)
    assert proc.returncode in (2, 3) and "magnitude" in proc.stderr, proc.stderr
    assert not (tmp_path / "g" / "plan.json").exists()
    # assess's --no-rasters in a national job would be ignored by the units: refused instead
    lean = tmp_path / "lean.toml"
    lean.write_text(job.read_text().replace('data/', f'{root}/data/') + 'no-rasters = true\n')
    proc = run_reclaim(reclaim_bin, "plan", lean, "--out", tmp_path / "l", check=False)
    assert proc.returncode == 3 and "no-rasters" in proc.stderr and "keep-rasters" in proc.stderr, proc.stderr  # a bad job file
    assert not (tmp_path / "l" / "plan.json").exists()
