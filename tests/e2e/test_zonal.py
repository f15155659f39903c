"""reclaim zonal end to end: exact-mode statistics against exactextract (an independent
implementation) on the demo scene and random polygons, center mode against GDAL rasterize,
analytic areas, zones outside the raster and bad input."""
import csv
import json
import math

import numpy as np
import pytest
from osgeo import gdal, ogr, osr

from conftest import run_reclaim, utm49_srs, write_raster

try:
    import exactextract
except ImportError as e:  # a missing oracle is a broken setup, not a reason to skip
    raise ImportError("exactextract missing: run scripts/setup.sh (it makes .venv with it)") from e

GT = (600000.0, 10.0, 0.0, 4300000.0, 0.0, -10.0)


def read_csv(path):
    with open(path) as f:
        return {row[next(iter(row))]: row for row in csv.DictReader(f)}


def num(text):
    return float(text) if text else float("nan")


def write_zones(path, polygons, srs, ids=None):
    """polygons: list of WKT; written as a GeoPackage with a site_id field."""
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = ds.CreateLayer("sites", srs, ogr.wkbMultiPolygon)
    layer.CreateField(ogr.FieldDefn("site_id", ogr.OFTString))
    for k, wkt in enumerate(polygons):
        f = ogr.Feature(layer.GetLayerDefn())
        f.SetField("site_id", ids[k] if ids else f"Z{k:03d}")
        f.SetGeometry(ogr.ForceToMultiPolygon(ogr.CreateGeometryFromWkt(wkt)))
        layer.CreateFeature(f)
    ds = None
    return path


@pytest.fixture(scope="module")
def value_raster(tmp_path_factory):
    rng = np.random.default_rng(4)
    h, w = 300, 420
    yy, xx = np.mgrid[0:h, 0:w]
    v = (np.sin(xx / 17.0) + np.cos(yy / 23.0) + rng.normal(0, 0.1, (h, w))).astype(np.float32)
    v[40:60, 100:130] = -9999  # a nodata patch
    path = tmp_path_factory.mktemp("zonal") / "value.tif"
    write_raster(path, [v], GT, utm49_srs(), dtype=gdal.GDT_Float32, nodata=-9999, block=64)
    return path, v


def random_polygon(rng, cx, cy, r, n):
    ang = np.sort(rng.uniform(0, 2 * np.pi, n))
    rad = r * rng.uniform(0.4, 1.0, n)
    pts = [(cx + a * math.cos(t), cy + a * math.sin(t)) for a, t in zip(rad, ang)]
    pts.append(pts[0])
    return "POLYGON((" + ",".join(f"{x} {y}" for x, y in pts) + "))"


def test_exact_mode_matches_exactextract(value_raster, reclaim_bin, tmp_path):
    path, _ = value_raster
    rng = np.random.default_rng(8)
    polys = [random_polygon(rng, GT[0] + rng.uniform(300, 3900), GT[3] - rng.uniform(300, 2700),
                            rng.uniform(30, 600), int(rng.integers(3, 40))) for _ in range(80)]
    # exactextract takes geometries as they are, reclaim repairs invalid ones: compare valid ones
    polys = [p for p in polys if ogr.CreateGeometryFromWkt(p).IsValid()][:60]
    assert len(polys) == 60
    polys.append("POLYGON((601000 4298000,601800 4298000,601800 4297300,601000 4297300,601000 4298000),"
                 "(601200 4297800,601500 4297800,601500 4297500,601200 4297500,601200 4297800))")  # hole
    polys.append("POLYGON((601003 4299003,601006 4299003,601006 4299006,601003 4299003))")  # below a pixel
    polys.append("POLYGON((601000 4299500,602500 4299500,602500 4297200,601000 4297200,601000 4299500))")
    zones = write_zones(tmp_path / "z.gpkg", polys, utm49_srs())
    run_reclaim(reclaim_bin, "zonal", "--raster", path, "--zones", zones, "--id-field", "site_id", "--stats",
                "count,sum,mean,min,max,nodata_count", "--out", tmp_path / "s.csv", "--memory-budget", "1M",
                "--quiet")
    ours = read_csv(tmp_path / "s.csv")
    ref = exactextract.exact_extract(str(path), str(zones), ["count", "sum", "mean", "min", "max"],
                                     include_cols=["site_id"])
    assert len(ours) == len(ref) == len(polys)
    for feature in ref:
        p = feature["properties"]
        o = ours[p["site_id"]]
        for st in ("count", "sum", "mean", "min", "max"):
            a, b = num(o[f"value_{st}"]), (float("nan") if p[st] is None else float(p[st]))
            if math.isnan(b):
                assert math.isnan(a) or (st == "count" and a == 0), (p["site_id"], st, a)
                continue
            assert abs(a - b) <= 1e-6 * max(1.0, abs(b)), (p["site_id"], st, a, b)
    assert num(ours["Z062"]["value_nodata_count"]) > 0  # the big zone covers the nodata patch


def test_center_mode_counts_match_gdal_rasterize(value_raster, reclaim_bin, tmp_path):
    path, v = value_raster
    rng = np.random.default_rng(9)
    polys = [random_polygon(rng, GT[0] + rng.uniform(500, 3700), GT[3] - rng.uniform(500, 2500),
                            rng.uniform(60, 400), 12) for _ in range(20)]
    zones = write_zones(tmp_path / "c.gpkg", polys, utm49_srs())
    run_reclaim(reclaim_bin, "zonal", "--raster", path, "--zones", zones, "--id-field", "site_id", "--coverage",
                "center", "--stats", "count,sum", "--out", tmp_path / "c.csv", "--quiet")
    ours = read_csv(tmp_path / "c.csv")
    src = gdal.Open(str(path))
    for k in range(len(polys)):
        mem = gdal.GetDriverByName("MEM").Create("", src.RasterXSize, src.RasterYSize, 1, gdal.GDT_Byte)
        mem.SetGeoTransform(GT)
        mem.SetSpatialRef(utm49_srs())
        zds = ogr.Open(str(zones))
        layer = zds.GetLayer(0)
        layer.SetAttributeFilter(f"site_id = 'Z{k:03d}'")
        gdal.RasterizeLayer(mem, [1], layer, burn_values=[1])
        inside = mem.ReadAsArray() == 1
        valid = inside & (v != -9999)
        assert num(ours[f"Z{k:03d}"]["value_count"]) == valid.sum(), k
        assert abs(num(ours[f"Z{k:03d}"]["value_sum"]) - v[valid].astype(np.float64).sum()) <= 1e-6 * max(
            1, abs(v[valid].sum()))


def test_areas_outside_and_empty_zones(reclaim_bin, tmp_path):
    """Analytic: a 35.5 x 20.25-pixel rectangle offset by fractions of a pixel on a constant
    raster; a zone outside the raster and an empty geometry are reported with count 0."""
    path = write_raster(tmp_path / "one.tif", [np.full((100, 100), 2.0, np.float32)], GT, utm49_srs(),
                        dtype=gdal.GDT_Float32, block=None)
    x0, y0 = GT[0] + 10.25 * 10, GT[3] - 20.5 * 10
    rect = f"POLYGON(({x0} {y0},{x0 + 355} {y0},{x0 + 355} {y0 - 202.5},{x0} {y0 - 202.5},{x0} {y0}))"
    far = "POLYGON((700000 4300000,700100 4300000,700100 4299900,700000 4300000))"
    zones = write_zones(tmp_path / "a.gpkg", [rect, far, "POLYGON EMPTY"], utm49_srs(), ids=["R", "FAR", "EMPTY"])
    run_reclaim(reclaim_bin, "zonal", "--raster", path, "--zones", zones, "--id-field", "site_id", "--stats",
                "count,sum,mean,area_ha,coverage", "--out", tmp_path / "a.csv", "--quiet")
    ours = read_csv(tmp_path / "a.csv")
    assert abs(num(ours["R"]["one_count"]) - 35.5 * 20.25) <= 1e-9
    assert abs(num(ours["R"]["one_area_ha"]) - 355 * 202.5 / 1e4) <= 1e-9
    assert abs(num(ours["R"]["one_mean"]) - 2.0) <= 1e-12 and num(ours["R"]["one_coverage"]) == 1.0
    for zone in ("FAR", "EMPTY"):
        assert num(ours[zone]["one_count"]) == 0 and math.isnan(num(ours[zone]["one_mean"]))


def test_overlapping_zones_each_get_full_statistics(reclaim_bin, tmp_path):
    path = write_raster(tmp_path / "g.tif", [np.tile(np.arange(60, dtype=np.float32), (40, 1))], GT, utm49_srs(),
                        dtype=gdal.GDT_Float32, block=None)
    a = f"POLYGON(({GT[0]} {GT[3]},{GT[0] + 400} {GT[3]},{GT[0] + 400} {GT[3] - 400},{GT[0]} {GT[3] - 400},{GT[0]} {GT[3]}))"
    b = (f"POLYGON(({GT[0] + 200} {GT[3]},{GT[0] + 600} {GT[3]},{GT[0] + 600} {GT[3] - 400},{GT[0] + 200} {GT[3] - 400},"
         f"{GT[0] + 200} {GT[3]}))")
    zones = write_zones(tmp_path / "o.gpkg", [a, b], utm49_srs(), ids=["A", "B"])
    run_reclaim(reclaim_bin, "zonal", "--raster", path, "--zones", zones, "--id-field", "site_id", "--stats",
                "count,mean", "--out", tmp_path / "o.csv", "--quiet")
    ours = read_csv(tmp_path / "o.csv")
    assert num(ours["A"]["g_count"]) == 1600 and num(ours["B"]["g_count"]) == 1600
    assert num(ours["A"]["g_mean"]) == pytest.approx(19.5) and num(ours["B"]["g_mean"]) == pytest.approx(39.5)


def test_bad_zones_file(value_raster, reclaim_bin, tmp_path):
    path, _ = value_raster
    proc = run_reclaim(reclaim_bin, "zonal", "--raster", path, "--zones", tmp_path / "missing.gpkg", "--out",
                       tmp_path / "x.csv", check=False)
    assert proc.returncode == 3 and "missing.gpkg" in proc.stderr
    assert not (tmp_path / "x.csv").exists()


def test_zones_outside_the_raster_are_named_in_one_warning(reclaim_bin, tmp_path):
    """Zones that miss the raster get count 0, as above, and one warning naming them (the run
    used to be silent, or warn that the raster had no valid pixel, which was not true)."""
    path = write_raster(tmp_path / "one.tif", [np.full((100, 100), 2.0, np.float32)], GT, utm49_srs(),
                        dtype=gdal.GDT_Float32, block=None)
    far = [f"POLYGON(({x} 4300000,{x + 100} 4300000,{x + 100} 4299900,{x} 4300000))" for x in (700000, 710000)]
    zones = write_zones(tmp_path / "far.gpkg", far, utm49_srs(), ids=["FAR1", "FAR2"])
    proc = run_reclaim(reclaim_bin, "zonal", "--raster", path, "--zones", zones, "--id-field", "site_id",
                       "--out", tmp_path / "far.csv")
    warnings = [l for l in proc.stderr.splitlines() if "outside the raster" in l]
    assert len(warnings) == 1 and "2 of 2 zones" in warnings[0] and "FAR1, FAR2" in warnings[0], proc.stderr
    assert "no valid pixel" not in proc.stderr
    assert all(num(row["one_count"]) == 0 for row in read_csv(tmp_path / "far.csv").values())


def test_a_layer_without_features_is_refused(reclaim_bin, tmp_path):
    """An empty sites layer gave an empty table (and, in assess, an empty report) with exit 0."""
    path = write_raster(tmp_path / "one.tif", [np.full((100, 100), 2.0, np.float32)], GT, utm49_srs(),
                        dtype=gdal.GDT_Float32, block=None)
    zones = write_zones(tmp_path / "none.gpkg", [], utm49_srs())
    proc = run_reclaim(reclaim_bin, "zonal", "--raster", path, "--zones", zones, "--out", tmp_path / "none.csv",
                       check=False)
    assert proc.returncode == 3, proc.stderr
    assert "none.gpkg: layer 'sites' has no features" in proc.stderr
    assert not (tmp_path / "none.csv").exists()


@pytest.mark.parametrize("ext", ["csv", "json", "gpkg"])
def test_a_zone_field_named_like_a_statistic_is_prefixed(reclaim_bin, tmp_path, ext):
    """A field `one_mean` beside the statistic `one_mean` of raster one.tif gave a CSV with two
    `one_mean` headers (a reader takes either), JSON with one value silently lost, and a
    GeoPackage error. The field is written as `attr_one_mean`, with a warning."""
    path = write_raster(tmp_path / "one.tif", [np.full((100, 100), 2.0, np.float32)], GT, utm49_srs(),
                        dtype=gdal.GDT_Float32, block=None)
    zones = tmp_path / "z.gpkg"
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(zones))
    layer = ds.CreateLayer("sites", utm49_srs(), ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("site_id", ogr.OFTString))
    layer.CreateField(ogr.FieldDefn("one_mean", ogr.OFTReal))
    f = ogr.Feature(layer.GetLayerDefn())
    f.SetField("site_id", "A")
    f.SetField("one_mean", 99.5)
    x0, y0 = GT[0], GT[3]
    f.SetGeometry(ogr.CreateGeometryFromWkt(f"POLYGON(({x0} {y0},{x0 + 200} {y0},{x0 + 200} {y0 - 200},{x0} {y0 - 200},"
                                            f"{x0} {y0}))"))
    layer.CreateFeature(f)
    ds = None
    out = tmp_path / f"t.{ext}"
    proc = run_reclaim(reclaim_bin, "zonal", "--raster", path, "--zones", zones, "--id-field", "site_id", "--stats",
                       "count,mean", "--out", out)
    assert "zone attribute 'one_mean' has the name of another column; written as 'attr_one_mean'" in proc.stderr
    if ext == "csv":
        row = read_csv(out)["A"]
    elif ext == "json":
        row = json.loads(out.read_text())["zones"][0]
    else:
        table = ogr.Open(str(out))  # kept: the layer dies with its dataset
        feature = table.GetLayer(0).GetNextFeature()
        row = {k: feature.GetField(k) for k in ("attr_one_mean", "one_mean", "one_count")}
    assert float(row["attr_one_mean"]) == 99.5 and float(row["one_mean"]) == 2.0 and float(row["one_count"]) == 400
