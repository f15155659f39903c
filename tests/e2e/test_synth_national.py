"""reclaim synth --national end to end: the national demo's scenes, inventories, sites, target grid
and job file, checked independently with GDAL/OGR and numpy, then the national workflow on it
(plan, run, merge) against one `reclaim assess` of the same job.

What the demo promises (docs/national.md, "The national demo"): four Sentinel-2-L2A-like scenes
per epoch, two tiles in each of UTM 49N (EPSG:32649) and 50N (EPSG:32650), either side of 114 E;
one CSV inventory per epoch; sites with a `province` field (Nei Mongol north of 40.70 N, else
Shanxi west of 114 E and Hebei east, by centroid), in both zones, some across the zone border
and some across a tile border; a target grid in an Albers equal-area CRS; and national.toml,
ready for `reclaim plan`. Seed 42 (RECLAIM_SYNTH_SEED overrides it; the checks hold for seeds 1, 3,
7, 11 and 42).
"""
import csv
import hashlib
import json
import math
import os
import tomllib

import numpy as np
import pytest
from osgeo import gdal, ogr, osr

from conftest import run_reclaim

gdal.UseExceptions()
ogr.UseExceptions()

EXIT_USAGE = 2
SEED = int(os.environ.get("RECLAIM_SYNTH_SEED", "42"))
YEARS = ("2019", "2025")
BANDS = ["B02", "B03", "B04", "B08", "B11", "B12", "SCL"]
ZONES = {"utm49n": 32649, "utm50n": 32650}
TILES = ("north", "south")
CLOUDY = (3, 8, 9, 10)  # SCL cloud shadow, cloud medium/high probability, thin cirrus
BORDER_LON, PROVINCE_LAT = 114.0, 40.70


def srs_of(epsg):
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


def epsg_of(ds):
    srs = ds.GetSpatialRef()
    srs.AutoIdentifyEPSG()
    return int(srs.GetAuthorityCode(None))


def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def footprint(ds):
    """The raster's extent as a polygon in its own CRS."""
    x0, dx, _, y0, _, dy = ds.GetGeoTransform()
    x1, y1 = x0 + dx * ds.RasterXSize, y0 + dy * ds.RasterYSize
    ring = ogr.Geometry(ogr.wkbLinearRing)
    for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)):
        ring.AddPoint_2D(x, y)
    poly = ogr.Geometry(ogr.wkbPolygon)
    poly.AddGeometry(ring)
    return poly


@pytest.fixture(scope="module")
def demo(reclaim_bin, tmp_path_factory):
    root = tmp_path_factory.mktemp("synth_national")
    proc = run_reclaim(reclaim_bin, "synth", "--national", "--out", root / "demo", "--seed", SEED)
    return root, root / "demo", proc.stdout.split()


@pytest.fixture(scope="module")
def scenes(demo):
    """{(year, zone, tile): (dataset, (7, h, w) array)}."""
    _, out, _ = demo
    found = {}
    for year in YEARS:
        for zone in ZONES:
            for tile in TILES:
                ds = gdal.Open(str(out / "scenes" / year / f"{zone}_{tile}.tif"))
                found[(year, zone, tile)] = (ds, ds.ReadAsArray())
    return found


@pytest.fixture(scope="module")
def sites(demo):
    _, out, _ = demo
    src = ogr.Open(str(out / "sites.gpkg"))
    layer = src.GetLayerByName("sites")
    fields = [layer.GetLayerDefn().GetFieldDefn(i).GetName() for i in range(layer.GetLayerDefn().GetFieldCount())]
    wgs = layer.GetSpatialRef().Clone()
    wgs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    rows = []
    for f in layer:
        rows.append({"id": f["site_id"], "name": f["name"], "status": f["status"], "province": f["province"],
                     "geo": f.GetGeometryRef().Clone()})
    return {"fields": fields, "srs": wgs, "rows": rows}


def test_files_listed_and_no_leftovers(demo):
    _, out, listed = demo
    expected = [out / "scenes" / y / f"{z}_{t}.tif" for y in YEARS for z in ZONES for t in TILES]
    expected += [out / "2019.csv", out / "2025.csv", out / "grid.tif", out / "sites.gpkg", out / "national.toml"]
    assert listed == [str(p) for p in expected]
    # (single.toml is the workflow fixture's job, written beside national.toml.)
    on_disk = sorted(p for p in out.rglob("*") if p.is_file() and p.name != "single.toml")
    assert on_disk == sorted(expected), "no temporaries or extra files"


def test_scenes_are_sentinel2_like_in_two_utm_zones(scenes):
    for (year, zone, tile), (ds, a) in scenes.items():
        assert epsg_of(ds) == ZONES[zone], (year, zone, tile)
        assert ds.RasterCount == 7
        assert [ds.GetRasterBand(b + 1).GetDescription() for b in range(7)] == BANDS
        assert all(ds.GetRasterBand(b + 1).DataType == gdal.GDT_UInt16 for b in range(7))
        assert all(ds.GetRasterBand(b + 1).GetNoDataValue() == 0 for b in range(7))
        gt = ds.GetGeoTransform()
        assert gt[1] == 10 and gt[5] == -10 and gt[2] == gt[4] == 0
        assert gt[0] % 10 == 0 and gt[3] % 10 == 0, "on the 10 m lattice of the zone"
        assert ds.GetMetadataItem("ACQUISITION_YEAR") == year
        scl = a[6]
        assert set(np.unique(scl)) <= {0, 3, 4, 5, 6, 8, 9, 10}
        data = scl != 0
        # Bands and SCL agree on no data; reflectances in the L2A range where there is data.
        assert np.array_equal(a[:6].min(axis=0) > 0, data)
        assert 0.7 < data.mean() < 1.0, "each scene ends at the zone border (no data beyond it)"
        refl = a[:6][:, data]
        assert 1 <= refl.min() and refl.max() <= 20000
    # Both epochs of a tile share its grid; a zone's two tiles share the lattice and overlap.
    for zone in ZONES:
        for tile in TILES:
            a, b = (scenes[(y, zone, tile)][0] for y in YEARS)
            assert a.GetGeoTransform() == b.GetGeoTransform()
            assert (a.RasterXSize, a.RasterYSize) == (b.RasterXSize, b.RasterYSize)
        north, south = (scenes[("2019", zone, t)] for t in TILES)
        gn, gs = north[0].GetGeoTransform(), south[0].GetGeoTransform()
        assert gn[0] == gs[0]
        overlap = round((gs[3] - (gn[3] - 10 * north[0].RasterYSize)) / 10)
        assert overlap > 0, "the tiles overlap, as MGRS tiles do"
        # Where they overlap, both tiles hold the same pixels (one landscape per zone).
        assert np.array_equal(north[1][:, -overlap:, :], south[1][:, :overlap, :])


def test_the_zones_meet_at_114_east(scenes):
    """The west zone's pixels end just east of 114 E, the east zone's begin just west of it."""
    wgs = srs_of(4326)
    for zone, epsg in ZONES.items():
        ds, a = scenes[("2019", zone, "north")]
        ct = osr.CoordinateTransformation(srs_of(epsg), wgs)
        x0, dx, _, y0, _, dy = ds.GetGeoTransform()
        for row in (0, ds.RasterYSize // 2, ds.RasterYSize - 1):
            cols = np.flatnonzero(a[6, row] != 0)
            edge = cols.max() + 1 if zone == "utm49n" else cols.min()  # the data's edge, in pixels
            lon, _, _ = ct.TransformPoint(x0 + dx * edge, y0 + dy * (row + 0.5))
            metres = (lon - BORDER_LON) * 111320 * math.cos(math.radians(40.7))
            assert abs(metres) < 40, (zone, row, metres)


def test_inventories_list_each_epochs_scenes(demo, scenes):
    _, out, _ = demo
    for year in YEARS:
        path = out / f"{year}.csv"
        with path.open(newline="") as f:
            rows = list(csv.reader(f))
        assert rows[0] == ["path", "datetime", "sensor", "cloud_cover"]
        listed = {}
        for p, when, sensor, cloud in rows[1:]:
            assert sensor == "sentinel2-l2a"
            assert when.startswith(f"{year}-") and when.endswith("Z")
            listed[(path.parent / p).resolve()] = float(cloud)
        expected = {(out / "scenes" / year / f"{z}_{t}.tif").resolve(): (z, t) for z in ZONES for t in TILES}
        assert set(listed) == set(expected), "every scene of the epoch, no other"
        assert len({r[1] for r in rows[1:]}) == 1, "one overpass: the tiles of an epoch share their date-time"
        for scene, (z, t) in expected.items():
            scl = scenes[(year, z, t)][1][6]
            data = scl != 0
            cloudy = np.isin(scl, CLOUDY) & data
            assert listed[scene] == pytest.approx(100 * cloudy.sum() / data.sum(), abs=0.006), scene


def test_sites_have_provinces_in_both_zones(sites):
    rows = sites["rows"]
    assert sites["srs"].GetAuthorityCode(None) == "4326"
    assert sites["fields"][:2] == ["site_id", "name"] and "province" in sites["fields"]
    assert 20 <= len(rows) <= 300
    assert len({r["id"] for r in rows}) == len(rows), "site ids are unique across the zones"
    for r in rows:
        c = r["geo"].Centroid()
        lon, lat = c.GetX(), c.GetY()
        expected = "Nei Mongol" if lat >= PROVINCE_LAT else ("Shanxi" if lon < BORDER_LON else "Hebei")
        assert r["province"] == expected, (r["id"], lon, lat)
    provinces = {r["province"] for r in rows}
    assert provinces == {"Shanxi", "Hebei", "Nei Mongol"}
    for p in provinces:
        assert sum(r["province"] == p for r in rows) >= 3, p
    west = [r for r in rows if r["geo"].Centroid().GetX() < BORDER_LON]
    assert 5 <= len(west) <= len(rows) - 5, "sites in both zones"


def test_some_sites_cross_the_zone_border_and_a_tile_border(sites, scenes):
    rows = [r for r in sites["rows"] if r["status"] != "outside_scene"]
    meridian = ogr.CreateGeometryFromWkt(f"LINESTRING ({BORDER_LON} 40.5, {BORDER_LON} 40.9)")
    assert sum(r["geo"].Intersects(meridian) for r in rows) >= 1, "a site across 114 E"
    crossing = 0
    for zone, epsg in ZONES.items():
        north = scenes[("2019", zone, "north")][0]
        x0, _, _, y0, _, dy = north.GetGeoTransform()
        bottom = y0 + dy * north.RasterYSize  # the north tile's southern edge
        edge = ogr.CreateGeometryFromWkt(f"LINESTRING ({x0} {bottom}, {x0 + 10 * north.RasterXSize} {bottom})")
        ct = osr.CoordinateTransformation(srs_of(4326), srs_of(epsg))
        for r in rows:
            g = r["geo"].Clone()
            g.Transform(ct)
            crossing += g.Intersects(edge)
    assert crossing >= 2, "a site across a tile border in each zone"


def test_target_grid_is_albers_and_holds_every_scene(demo, scenes):
    _, out, _ = demo
    grid = gdal.Open(str(out / "grid.tif"))
    srs = grid.GetSpatialRef()
    assert srs.GetAttrValue("PROJECTION") == "Albers_Conic_Equal_Area"
    assert srs.GetProjParm(osr.SRS_PP_STANDARD_PARALLEL_1) == 25 and srs.GetProjParm(osr.SRS_PP_STANDARD_PARALLEL_2) == 47
    gt = grid.GetGeoTransform()
    assert gt[1] == 10 and gt[5] == -10
    assert 1.5e6 < grid.RasterXSize * grid.RasterYSize < 5e6, "a few Mpixel: small enough for CI"
    box = footprint(grid)
    aea = srs.Clone()
    aea.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    for (year, zone, tile), (ds, _) in scenes.items():
        g = footprint(ds)
        g.Segmentize(100)
        g.AssignSpatialReference(srs_of(ZONES[zone]))
        g.TransformTo(aea)
        assert box.Contains(g), (year, zone, tile)


def test_job_file_is_ready_for_plan(demo):
    _, out, _ = demo
    job = tomllib.loads((out / "national.toml").read_text())
    assert job == {"before": "2019=2019.csv", "after": "2025=2025.csv", "sites": "sites.gpkg",
                   "id-field": "site_id", "region-field": "province", "sensor": "sentinel2-l2a",
                   "target-grid": "grid.tif", "unit-size": 1024}


def test_same_seed_same_bytes_and_layout_is_fixed(reclaim_bin, demo):
    root, out, _ = demo
    again = root / "again"
    run_reclaim(reclaim_bin, "synth", "--national", "--out", again, "--seed", SEED, "--overwrite")
    for p in sorted(out.rglob("*.tif")) + sorted(out.glob("*.csv")) + [out / "national.toml"]:
        assert sha(p) == sha(again / p.relative_to(out)), p.name

    def features(path):  # a GeoPackage records when it was written: compare what it holds
        src = ogr.Open(str(path))
        return [(f.items(), f.GetGeometryRef().ExportToWkt()) for f in src.GetLayer(0)]
    assert features(out / "sites.gpkg") == features(again / "sites.gpkg")
    proc = run_reclaim(reclaim_bin, "synth", "--national", "--out", root / "sized", "--width", "100", check=False)
    assert proc.returncode == EXIT_USAGE and "--national" in proc.stderr
    assert not (root / "sized").exists()
    proc = run_reclaim(reclaim_bin, "synth", "--national", "--out", out, check=False)
    assert proc.returncode == EXIT_USAGE and "exists already" in proc.stderr


@pytest.fixture(scope="module")
def workflow(reclaim_bin, demo, sites):
    """plan, run, merge of national.toml; and one assess of the same job without the plan's keys."""
    root, out, _ = demo
    run_dir = root / "run"
    run_reclaim(reclaim_bin, "plan", out / "national.toml", "--out", run_dir, "--quiet")
    run_reclaim(reclaim_bin, "run", run_dir, "--quiet")
    run_reclaim(reclaim_bin, "merge", run_dir, "--quiet")
    single_job = out / "single.toml"  # beside national.toml: the same relative paths
    single_job.write_text("".join(line for line in (out / "national.toml").read_text().splitlines(True)
                                  if not line.startswith(("unit-size", "keep-rasters"))))
    single = root / "single"
    run_reclaim(reclaim_bin, "assess", "--job", single_job, "--out", single, "--no-pictures", "--quiet")
    return run_dir, single


def test_national_run_gives_the_single_assess_bytes(workflow, demo):
    run_dir, single = workflow
    plan = json.loads((run_dir / "plan.json").read_text())
    assert len(plan["units"]) >= 2
    grid = gdal.Open(str(demo[1] / "grid.tif"))
    assert (plan["grid"]["width"], plan["grid"]["height"]) == (grid.RasterXSize, grid.RasterYSize)
    assert (run_dir / "sites.csv").read_bytes() == (single / "sites.csv").read_bytes()


def test_summary_totals_per_province(workflow, sites):
    run_dir, single = workflow
    merged = json.loads((run_dir / "summary.json").read_text())
    whole = json.loads((single / "summary.json").read_text())
    assert merged["missing_units"] == []
    assert merged["regions"] == whole["regions"] and merged["totals"] == whole["totals"]
    regions = merged["regions"]
    assert regions["field"] == "province"
    counts = {}
    for r in sites["rows"]:
        counts[r["province"]] = counts.get(r["province"], 0) + 1
    assert set(regions["totals"]) == set(counts)
    for province, n in counts.items():
        totals = regions["totals"][province]
        assert totals["sites"] == n, province
        assert totals["area_ha"] > 0 and totals["valid_area_ha"] > 0, province
    with (run_dir / "sites.csv").open(newline="") as f:
        table = list(csv.DictReader(f))
    assert {r["site_id"]: r["province"] for r in table} == {r["id"]: r["province"] for r in sites["rows"]}


def test_valid_fraction_stays_in_0_1_for_a_site_without_imagery(workflow):
    """S031 lies on the grid but east of every scene: no clear pixel. Its valid fraction is 0,
    not a few ulps below (area and no-data area are summed separately)."""
    run_dir, _ = workflow
    with (run_dir / "sites.csv").open(newline="") as f:
        table = {r["site_id"]: r for r in csv.DictReader(f)}
    for site, row in table.items():
        if row["valid_fraction"]:
            assert 0.0 <= float(row["valid_fraction"]) <= 1.0, site
    dark = [r for r in table.values() if r["area_ha"] and float(r["area_ha"]) > 0 and
            float(r["no_data_ha"]) >= float(r["area_ha"]) * (1 - 1e-9)]
    assert dark and all(float(r["valid_fraction"]) == 0.0 for r in dark)


def test_plan_records_inventories_and_item_ids_and_refuses_a_changed_inventory(reclaim_bin, demo, workflow, tmp_path):
    """A composited epoch's inventory is checksummed in the plan (hashlib's SHA-256 here) and
    the ids of the scenes each epoch keeps are listed (a CSV scene's id is its path as given);
    a scene dropped from an inventory after planning is refused by run and merge (exit 3):
    the units already run would hold the other set of scenes."""
    import shutil
    _, out, _ = demo
    run_dir, _ = workflow
    plan = json.loads((run_dir / "plan.json").read_text())
    by_path = {os.path.basename(f["path"]): f["sha256"] for f in plan["inventories"]}
    assert by_path == {f"{y}.csv": hashlib.sha256((out / f"{y}.csv").read_bytes()).hexdigest() for y in YEARS}
    for entry in plan["epoch_items"]:
        with (out / f"{entry['label']}.csv").open(newline="") as f:
            ids = [row["path"] for row in csv.DictReader(f)]
        assert sorted(entry["items"]) == sorted(ids) and len(ids) == 4
    copy = tmp_path / "demo"
    shutil.copytree(out, copy)
    moved = tmp_path / "run"
    run_reclaim(reclaim_bin, "plan", copy / "national.toml", "--out", moved, "--quiet")
    lines = (copy / "2025.csv").read_text().splitlines(True)
    (copy / "2025.csv").write_text("".join(lines[:-1]))  # one scene fewer
    for command in (["run", moved], ["merge", moved]):
        proc = run_reclaim(reclaim_bin, *command, check=False)
        assert proc.returncode == 3 and "2025.csv: the inventory changed since the plan was made" in proc.stderr, \
            proc.stderr
