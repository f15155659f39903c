"""reclaim synth end to end: file layout, the mine-site GeoPackage's geometry cases, and the
scene's realism, all measured independently with GDAL/OGR and numpy on a small scene.

The scene is 640 x 512 pixels, seed 3 (RECLAIM_SYNTH_SEED overrides the seed, to check that the
thresholds below are not tuned to one scene; they hold for seeds 1, 3 and 42). A scene this small
holds only ~6 sites and one or two cloud blobs, so the thresholds are looser than for the default
2048 x 2048 scene; each says what small scenes really show.
"""
import itertools
import os
import subprocess

import numpy as np
import pytest
from osgeo import gdal, ogr, osr

from conftest import run_reclaim

gdal.UseExceptions()
ogr.UseExceptions()

EXIT_USAGE, EXIT_IO = 2, 4
SEED = int(os.environ.get("RECLAIM_SYNTH_SEED", "3"))
W, H = 640, 512
YEARS = ("2019", "2025")
BANDS = ["B02", "B03", "B04", "B08", "B11", "B12", "SCL"]
SCL_CLASSES = {0, 3, 4, 5, 6, 8, 9, 10}
UNCLEAR = (0, 3, 8, 9, 10)  # nodata, cloud shadow, clouds, cirrus: not usable for change
STATUSES = {"revegetated", "partly_revegetated", "still_bare", "newly_disturbed", "outside_scene"}


def synth(reclaim_bin, out, seed=SEED, width=W, height=H, **kw):
    return run_reclaim(reclaim_bin, "synth", "--out", out, "--width", width, "--height", height, "--seed", seed, **kw)


def utm49():
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32649)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


def ndvi(stack):
    red, nir = stack[2].astype(np.float64), stack[3].astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (nir - red) / (nir + red)


@pytest.fixture(scope="module")
def scene(reclaim_bin, tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "scene"
    proc = synth(reclaim_bin, out)
    return out, proc.stdout


@pytest.fixture(scope="module")
def rasters(scene):
    """Both epochs as (7, H, W) uint16 arrays, with their datasets."""
    out, _ = scene
    ds = [gdal.Open(str(out / f"{y}.tif")) for y in YEARS]
    return ds, [d.ReadAsArray() for d in ds]


@pytest.fixture(scope="module")
def sites(scene):
    """Every feature: site_id, status, name, geometry in EPSG:4326 and in UTM 49N."""
    out, _ = scene
    src = ogr.Open(str(out / "sites.gpkg"))  # keep the datasource alive while the layer is used
    layer = src.GetLayerByName("sites")
    assert layer is not None, "no layer 'sites'"
    wgs = layer.GetSpatialRef().Clone()
    wgs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    ct = osr.CoordinateTransformation(wgs, utm49())
    rows = []
    for f in layer:
        geo = f.GetGeometryRef().Clone()
        utm = geo.Clone()
        utm.Transform(ct)
        rows.append({"id": f["site_id"], "status": f["status"], "name": f["name"], "geo": geo, "utm": utm})
    info = {"layer_geom": layer.GetGeomType(), "srs": wgs, "count": layer.GetFeatureCount()}
    return rows, info


def scene_extent(ds):
    gt = ds.GetGeoTransform()
    x0, y0, x1, y1 = gt[0], gt[3], gt[0] + ds.RasterXSize * gt[1], gt[3] + ds.RasterYSize * gt[5]
    return ogr.CreateGeometryFromWkt(f"POLYGON(({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0}))")


# ---- files ---------------------------------------------------------------------------------

def test_outputs_listed_and_no_leftovers(scene):
    out, stdout = scene
    expected = [out / f"{y}.tif" for y in YEARS] + [out / "sites.gpkg"]
    assert stdout.split() == [str(p) for p in expected]
    # no *.tmp, sites.tmp.gpkg, SQLite -journal/-wal/-shm or GDAL .aux.xml left behind
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in expected)


@pytest.mark.parametrize("year", YEARS)
def test_raster_structure(rasters, year):
    ds = rasters[0][YEARS.index(year)]
    assert (ds.RasterXSize, ds.RasterYSize, ds.RasterCount) == (W, H, 7)
    info = gdal.Info(ds, format="json")
    for i, band in enumerate(info["bands"]):
        assert band["type"] == "UInt16"
        assert band["description"] == BANDS[i]
        assert band["noDataValue"] == 0
        # 512 x 512 tiles; a scene no larger than a tile is one tile of the scene's size
        assert band["block"] in ([512, 512], [min(512, W), min(512, H)])
    assert ds.GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE") == "DEFLATE"
    srs = ds.GetSpatialRef()
    assert srs.GetAuthorityName(None) == "EPSG" and srs.GetAuthorityCode(None) == "32649"
    gt = ds.GetGeoTransform()
    assert (gt[1], gt[2], gt[4], gt[5]) == (10.0, 0.0, 0.0, -10.0), gt
    # the scene centre lies in UTM zone 49N's strip (108-114 E), in northern China
    wgs = osr.SpatialReference()
    wgs.ImportFromEPSG(4326)
    wgs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    lon, lat, _ = osr.CoordinateTransformation(utm49(), wgs).TransformPoint(gt[0] + 5 * W, gt[3] - 5 * H)
    assert 108 <= lon <= 114 and 30 <= lat <= 45, (lon, lat)
    assert ds.GetMetadataItem("ACQUISITION_YEAR") == year


def test_epochs_share_the_grid(rasters):
    a, b = rasters[0]
    assert a.GetGeoTransform() == b.GetGeoTransform()
    assert a.GetSpatialRef().IsSame(b.GetSpatialRef())


# ---- pixels --------------------------------------------------------------------------------

@pytest.mark.parametrize("year", YEARS)
def test_values_classes_and_nodata(rasters, year):
    stack = rasters[1][YEARS.index(year)]
    scl = stack[6]
    assert set(np.unique(scl).tolist()) <= SCL_CLASSES
    valid = scl != 0
    for i in range(6):
        band = stack[i]
        # a valid DN of 0 would read as nodata; 20000 is reflectance 2.0, far above any real surface
        assert band[valid].min() >= 1 and band[valid].max() <= 20000, BANDS[i]
        assert not band[~valid].any(), f"{BANDS[i]}: SCL 0 pixels must be 0 (nodata) in every band"


def test_nodata_strip_in_second_epoch_only(rasters):
    scl0, scl1 = rasters[1][0][6], rasters[1][1][6]
    assert np.count_nonzero(scl0 == 0) == 0
    cols = np.where((scl1 == 0).any(axis=0))[0]
    assert cols.size > 0, "no swath-edge nodata in the second epoch"
    assert cols.min() > 0.9 * W, f"nodata strip starts at column {cols.min()}, not along the east edge"


@pytest.mark.parametrize("year", YEARS)
def test_cloud_and_shadow_fractions(rasters, year):
    scl = rasters[1][YEARS.index(year)][6]
    cloud = np.isin(scl, (8, 9)).mean()
    shadow = np.mean(scl == 3)
    # The generator aims at a few per cent of cloud. At 640 x 512 one blob is a large share of the
    # scene, so seeds 1..13 give 3.0-7.7 %; 1-10 % still catches "no clouds" or "overcast".
    assert 0.01 <= cloud <= 0.10, f"cloud (SCL 8+9) {100 * cloud:.2f} %"
    # smallest seen at this size: 1.1 % (seed 1, 2025)
    assert shadow > 0.003, f"cloud shadow (SCL 3) {100 * shadow:.2f} %"


def test_class_spectra(rasters):
    """SCL 4 (vegetation) is green, 5 (bare) is soil, 6 (water) has negative NDVI."""
    stack = rasters[1][0]
    v, scl = ndvi(stack), stack[6]
    for cls, lo, hi in ((4, 0.4, 0.9), (5, -0.1, 0.45), (6, -0.6, 0.1)):
        m = scl == cls
        assert m.sum() > 1000, f"SCL {cls} nearly absent"
        med = float(np.median(v[m]))
        assert lo <= med <= hi, f"median NDVI of SCL {cls} = {med:.3f} outside [{lo}, {hi}]"


# ---- sites ---------------------------------------------------------------------------------

def test_sites_layer(sites):
    rows, info = sites
    assert info["count"] == len(rows) >= 4
    assert info["srs"].GetAuthorityCode(None) == "4326"
    assert ogr.GT_Flatten(info["layer_geom"]) == ogr.wkbMultiPolygon
    ids = [r["id"] for r in rows]
    assert len(set(ids)) == len(ids) and all(ids), ids
    assert all(r["name"] for r in rows)
    assert {r["status"] for r in rows} <= STATUSES
    for r in rows:
        g = r["geo"]
        assert ogr.GT_Flatten(g.GetGeometryType()) == ogr.wkbMultiPolygon, r["id"]
        assert g.IsValid() and not g.IsEmpty(), r["id"]
        c = g.Centroid()
        # x is longitude, y latitude (traditional GIS order), near the scene in northern China
        assert 100 < c.GetX() < 120 and 30 < c.GetY() < 45, (r["id"], c.GetX(), c.GetY())


def test_site_geometry_cases(sites, rasters):
    rows, _ = sites
    multi = [r["id"] for r in rows if r["utm"].GetGeometryCount() >= 2]
    assert multi, "no multipolygon with two or more parts"
    for r in rows:
        g = r["utm"]
        if g.GetGeometryCount() >= 2:  # the parts of a lease are apart
            parts = [g.GetGeometryRef(i) for i in range(g.GetGeometryCount())]
            assert not any(p.Intersects(q) for p, q in itertools.combinations(parts, 2)), r["id"]
    holed = [(r, r["utm"].GetGeometryRef(i)) for r in rows for i in range(r["utm"].GetGeometryCount())
             if r["utm"].GetGeometryRef(i).GetGeometryCount() >= 2]
    assert holed, "no polygon with a hole"
    for r, poly in holed:
        outer, hole = ogr.Geometry(ogr.wkbPolygon), ogr.Geometry(ogr.wkbPolygon)
        outer.AddGeometry(poly.GetGeometryRef(0))
        hole.AddGeometry(poly.GetGeometryRef(1))
        assert outer.Contains(hole), r["id"]
        assert poly.GetArea() == pytest.approx(outer.GetArea() - hole.GetArea(), rel=1e-9), r["id"]
    overlaps = [(a["id"], b["id"]) for a, b in itertools.combinations(rows, 2)
                if a["utm"].Intersects(b["utm"]) and a["utm"].Intersection(b["utm"]).GetArea() > 1.0]
    assert overlaps, "no overlapping pair of sites"
    extent = scene_extent(rasters[0][0])
    outside = [r for r in rows if not r["utm"].Intersects(extent)]
    assert [r["status"] for r in outside] == ["outside_scene"], [r["id"] for r in outside]
    assert all(r["status"] != "outside_scene" for r in rows if r["utm"].Intersects(extent))


@pytest.fixture(scope="module")
def site_change(sites, rasters):
    """Per in-scene site: clear-pixel count and share, bare (SCL 5) share per epoch, mean NDVI change."""
    rows, _ = sites
    ds, stacks = rasters
    scl0, scl1 = stacks[0][6], stacks[1][6]
    nd0, nd1 = ndvi(stacks[0]), ndvi(stacks[1])
    clear = ~np.isin(scl0, UNCLEAR) & ~np.isin(scl1, UNCLEAR)
    grid = gdal.GetDriverByName("MEM").Create("", W, H, 1, gdal.GDT_Byte)
    grid.SetGeoTransform(ds[0].GetGeoTransform())
    grid.SetSpatialRef(utm49())
    stats = {}
    for r in rows:
        if r["status"] == "outside_scene":
            continue
        mem = ogr.GetDriverByName("Memory").CreateDataSource("m")
        layer = mem.CreateLayer("l", utm49(), ogr.wkbMultiPolygon)
        feat = ogr.Feature(layer.GetLayerDefn())
        feat.SetGeometry(r["utm"])
        layer.CreateFeature(feat)
        grid.GetRasterBand(1).Fill(0)
        gdal.RasterizeLayer(grid, [1], layer, burn_values=[1])  # pixel centres inside, holes excluded
        inside = grid.GetRasterBand(1).ReadAsArray() == 1
        m = inside & clear
        n = int(m.sum())
        stats[r["id"]] = {
            "status": r["status"], "px": int(inside.sum()), "n": n, "share": n / max(1, int(inside.sum())),
            "bare0": float(np.mean(scl0[m] == 5)) if n else np.nan,
            "bare1": float(np.mean(scl1[m] == 5)) if n else np.nan,
            "dndvi": float(np.mean(nd1[m]) - np.mean(nd0[m])) if n else np.nan,
        }
    return stats


def assessed(site_change, status):
    """Sites of a status with enough clear pixels in both epochs to measure. A cloud over a small
    site can leave under half of it clear (seen down to 24 % at this size), so the bar is 20 %
    and 200 pixels (2 ha) rather than a majority."""
    return {k: s for k, s in site_change.items() if s["status"] == status and s["n"] >= 200 and s["share"] >= 0.2}


def test_in_scene_sites_cover_pixels(site_change):
    # the smallest pit polygon at this size covers ~2000 pixels (seeds 1..13)
    small = {k: s["px"] for k, s in site_change.items() if s["px"] < 500}
    assert site_change and not small, small


def test_existing_sites_bare_in_first_epoch(site_change):
    # The polygons include a margin of undisturbed land around each pit, so "largely bare" is
    # > 40 % bare; seeds 1..13 give 45-97 %.
    rows = {k: s for k, s in site_change.items() if s["status"] != "newly_disturbed" and s["n"] >= 200}
    assert rows
    low = {k: round(s["bare0"], 2) for k, s in rows.items() if not s["bare0"] > 0.4}
    assert not low, f"existing sites not bare in 2019: {low}"


def test_revegetated_sites_green_up(site_change):
    rows = assessed(site_change, "revegetated")
    assert len(rows) >= 2, f"only {len(rows)} revegetated sites measurable"
    d = {k: round(s["dndvi"], 3) for k, s in rows.items()}
    # Every one greens (smallest seen: +0.08, seed 3 S003, a small site with sparse planting);
    # on average clearly (seeds 1, 3, 42: +0.20 to +0.25).
    assert all(v > 0.05 for v in d.values()), d
    assert np.mean(list(d.values())) > 0.15, d
    # Bare ground shrinks overall; a sparsely planted site may keep its bare share (seed 3
    # S004: 0.48 -> 0.49 while its NDVI rises), but none gets clearly barer.
    shares = {k: (round(s["bare0"], 2), round(s["bare1"], 2)) for k, s in rows.items()}
    assert np.mean([s["bare1"] - s["bare0"] for s in rows.values()]) < -0.1, shares
    assert all(s["bare1"] < s["bare0"] + 0.05 for s in rows.values()), shares


def test_newly_disturbed_sites_brown(site_change):
    rows = assessed(site_change, "newly_disturbed")
    if not rows:
        pytest.skip(f"seed {SEED} at {W} x {H} places no measurable newly_disturbed site")
    # The pit replaces vegetation: seeds 1 and 3 give dNDVI -0.22 and -0.37 and the bare share
    # rising by 0.61 and 0.72 (seed 5: -0.14 and +0.28, its site margin being half bare already).
    for k, s in rows.items():
        assert s["dndvi"] < -0.1, (k, s)
        assert s["bare1"] - s["bare0"] > 0.2, (k, s)


def test_still_bare_sites_unchanged(site_change):
    rows = assessed(site_change, "still_bare")
    if not rows:
        pytest.skip(f"seed {SEED} at {W} x {H} places no measurable still_bare site")
    # Season and haze differ between the epochs, so not zero: seeds 1..13 give |dNDVI| <= 0.033
    # and bare-share changes <= 0.09.
    for k, s in rows.items():
        assert abs(s["dndvi"]) < 0.1, (k, s)
        assert abs(s["bare1"] - s["bare0"]) < 0.15, (k, s)


# ---- determinism ---------------------------------------------------------------------------

def site_records(path):
    src = ogr.Open(str(path))
    layer = src.GetLayerByName("sites")
    return [(f["site_id"], f["status"], f["name"], f.GetGeometryRef().ExportToWkb()) for f in layer]


def test_same_seed_same_bytes(reclaim_bin, scene, tmp_path):
    out, _ = scene
    again = tmp_path / "again"
    # pinned to one CPU: pixels must not depend on the thread count or strip order
    proc = subprocess.run([reclaim_bin, "synth", "--out", str(again), "--width", str(W), "--height", str(H),
                           "--seed", str(SEED)], capture_output=True, text=True,
                          preexec_fn=lambda: os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}))
    assert proc.returncode == 0, proc.stderr
    for y in YEARS:
        assert (again / f"{y}.tif").read_bytes() == (out / f"{y}.tif").read_bytes(), f"{y}.tif differs"
    # a GeoPackage carries a write timestamp, so compare its content
    assert site_records(again / "sites.gpkg") == site_records(out / "sites.gpkg")


def test_different_seed_different_scene(reclaim_bin, rasters, tmp_path):
    other = tmp_path / "other"
    synth(reclaim_bin, other, seed=SEED + 1)
    for y, ref in zip(YEARS, rasters[1]):
        a = gdal.Open(str(other / f"{y}.tif")).ReadAsArray()
        differ = np.mean(a[:6] != ref[:6])
        assert differ > 0.5, f"{y}: only {100 * differ:.1f} % of band values differ between seeds"


# ---- errors --------------------------------------------------------------------------------

def fails(reclaim_bin, code, *args):
    proc = run_reclaim(reclaim_bin, "synth", *args, check=False)
    assert proc.returncode == code, f"exit {proc.returncode}, stderr: {proc.stderr}"
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("reclaim: error: "), proc.stderr
    return lines[0]


@pytest.mark.parametrize("args", [
    ["--width", "0"],
    ["--height", "-5"],
    ["--width", "abc"],
    ["--seed", "-1"],
    ["--bogus", "1"],
    ["--before-year", "2020", "--after-year", "2020"],
], ids=lambda a: " ".join(a))
def test_bad_options_exit_2(reclaim_bin, tmp_path, args):
    out = tmp_path / "o"
    fails(reclaim_bin, EXIT_USAGE, "--out", out, "--width", "32", "--height", "32", *args)
    assert not out.exists(), "output folder created for a run that could not start"


def test_missing_out_exits_2(reclaim_bin):
    line = fails(reclaim_bin, EXIT_USAGE, "--width", "32")
    assert "--out" in line


def test_output_under_a_file_exits_4(reclaim_bin, tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    line = fails(reclaim_bin, EXIT_IO, "--out", blocker / "sub", "--width", "32", "--height", "32")
    assert "afile" in line
    assert blocker.read_text() == "x"


def test_unwritable_target_exits_4_and_cleans_up(reclaim_bin, tmp_path):
    """The first file cannot take its final name (a folder is in the way, and --overwrite lets
    the run get that far): exit 4, and no temporary file nor any other output is left behind."""
    out = tmp_path / "o"
    (out / "2019.tif" / "keep").mkdir(parents=True)
    line = fails(reclaim_bin, EXIT_IO, "--out", out, "--width", "64", "--height", "64", "--overwrite")
    assert "2019.tif" in line
    assert sorted(p.name for p in out.iterdir()) == ["2019.tif"], sorted(p.name for p in out.iterdir())
    assert [p.name for p in (out / "2019.tif").iterdir()] == ["keep"]
