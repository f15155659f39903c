"""Zonal statistics beyond one value band: class rasters, GeoPackage and JSON tables, exact
merging of tiles and shards (partial files + reclaim merge), geographic-CRS areas, and
--zones inside the fused passes of indices and change. References are independent:
numpy over GDAL-rasterized masks, closed-form ellipsoidal areas, reclaim's own single pass
for the merge identities."""
import csv
import json
import math
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal, ogr, osr

from conftest import run_reclaim, utm49_srs, write_raster
from test_errors import EXIT_INPUT, fails
from test_zonal import GT, num, random_polygon, read_csv, write_zones

CLASS_NAMES = ["no data", "bare", "revegetated", "stable vegetation"]


def class_raster(path, classes):
    """UInt8 class raster with a colour table and category names, nodata 0."""
    h, w = classes.shape
    ds = gdal.GetDriverByName("GTiff").Create(str(path), w, h, 1, gdal.GDT_Byte, ["TILED=YES", "BLOCKXSIZE=64",
                                                                                   "BLOCKYSIZE=64"])
    ds.SetGeoTransform(GT)
    ds.SetSpatialRef(utm49_srs())
    band = ds.GetRasterBand(1)
    band.WriteArray(classes)
    band.SetNoDataValue(0)
    ct = gdal.ColorTable()
    for k, rgb in enumerate([(0, 0, 0), (191, 129, 45), (26, 152, 80), (0, 90, 50)]):
        ct.SetColorEntry(k, (*rgb, 255))
    band.SetColorTable(ct)
    band.SetCategoryNames(CLASS_NAMES)
    ds = None
    return path


def rasterize_masks(zones_path, shape, gt, srs=None):
    """Per-feature center-mode masks with GDAL rasterize (an independent implementation);
    geometries reprojected to `srs` (default UTM 49N) with OSR first."""
    srs = srs or utm49_srs()
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    src = ogr.Open(str(zones_path))
    layer = src.GetLayer(0)
    layer_srs = layer.GetSpatialRef()
    layer_srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    transform = osr.CoordinateTransformation(layer_srs, srs)
    masks = {}
    for feature in layer:
        mem = ogr.GetDriverByName("Memory").CreateDataSource("m")
        lyr = mem.CreateLayer("z", srs, ogr.wkbMultiPolygon)
        f = ogr.Feature(lyr.GetLayerDefn())
        geom = feature.GetGeometryRef().Clone()
        geom.Transform(transform)
        f.SetGeometry(geom)
        lyr.CreateFeature(f)
        ds = gdal.GetDriverByName("MEM").Create("", shape[1], shape[0], 1, gdal.GDT_Byte)
        ds.SetGeoTransform(gt)
        gdal.RasterizeLayer(ds, [1], lyr, burn_values=[1])
        masks[feature.GetField("site_id")] = ds.GetRasterBand(1).ReadAsArray().astype(bool)
    return masks


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    rng = np.random.default_rng(11)
    polys = [random_polygon(rng, GT[0] + rng.uniform(300, 3900), GT[3] - rng.uniform(300, 2700),
                            rng.uniform(80, 400), 9) for _ in range(25)]
    return write_zones(tmp_path_factory.mktemp("z") / "sites.gpkg", polys, utm49_srs())


def test_class_raster_areas_fractions_majority(reclaim_bin, tmp_path, sites):
    rng = np.random.default_rng(5)
    classes = rng.choice([0, 1, 2, 3], size=(300, 420), p=[0.1, 0.4, 0.3, 0.2]).astype(np.uint8)
    path = class_raster(tmp_path / "cls.tif", classes)
    run_reclaim(reclaim_bin, "zonal", "--raster", path, "--zones", sites, "--id-field", "site_id", "--coverage",
                "center", "--out", tmp_path / "c.csv", "--quiet")
    ours = read_csv(tmp_path / "c.csv")
    for site, mask in rasterize_masks(sites, classes.shape, GT).items():
        row = ours[site]
        counts = np.bincount(classes[mask], minlength=4)
        total = counts.sum()
        assert num(row["cls_area_ha"]) == pytest.approx(total * 0.01, abs=1e-9)
        for k, name in enumerate(CLASS_NAMES):
            key = "cls_" + name.replace(" ", "_")
            assert num(row[key + "_ha"]) == pytest.approx(counts[k] * 0.01, abs=1e-9), (site, name)
            assert num(row[key + "_fraction"]) == pytest.approx(counts[k] / total, abs=1e-12)
        # Majority: the most frequent class, ties to the lowest value (np.argmax does the same).
        assert int(num(row["cls_majority"])) == int(np.argmax(counts))


def test_gpkg_and_json_tables_match_csv(reclaim_bin, tmp_path, sites):
    from test_zonal import write_raster as _  # noqa: F401  (same helpers as the CSV tests)
    rng = np.random.default_rng(2)
    v = rng.normal(0.3, 0.2, (300, 420)).astype(np.float32)
    path = write_raster(tmp_path / "v.tif", [v], GT, utm49_srs(), dtype=gdal.GDT_Float32, block=64)
    common = ["zonal", "--raster", path, "--zones", sites, "--id-field", "site_id", "--stats",
              "count,mean,min,max,area_ha", "--quiet"]
    for ext in ("csv", "gpkg", "json"):
        run_reclaim(reclaim_bin, *common, "--out", tmp_path / f"t.{ext}")
    ours = read_csv(tmp_path / "t.csv")
    doc = json.load(open(tmp_path / "t.json"))
    assert doc["id_field"] == "site_id" and len(doc["zones"]) == 25
    gpkg = ogr.Open(str(tmp_path / "t.gpkg"))
    layer = gpkg.GetLayer(0)
    assert layer.GetFeatureCount() == 25
    assert layer.GetSpatialRef().GetAuthorityCode(None) == "32649"
    src_ds = ogr.Open(str(sites))  # the layer lives only as long as its dataset
    src_area = {f.GetField("site_id"): f.GetGeometryRef().GetArea() for f in src_ds.GetLayer(0)}
    for feature, z in zip(layer, doc["zones"]):
        site = feature.GetField("site_id")
        assert z["id"] == site
        for col in ("v_count", "v_mean", "v_min", "v_max", "v_area_ha"):
            assert feature.GetField(col) == float(ours[site][col]) == z[col]
        # Geometry kept: its area equals the source polygon's and the exact-mode area.
        assert feature.GetGeometryRef().GetArea() == pytest.approx(src_area[site], rel=1e-12)
        assert feature.GetField("v_area_ha") == pytest.approx(src_area[site] / 1e4, rel=1e-9)


def test_gpkg_without_id_field_keeps_feature_ids(reclaim_bin, tmp_path, sites):
    """Regression: without --id-field the id column is "fid", which GeoPackage's primary key
    used to claim ("cannot add field fid"). The table's fid column holds the source feature
    ids, and its values match the CSV's."""
    rng = np.random.default_rng(8)
    v = rng.normal(0.3, 0.2, (300, 420)).astype(np.float32)
    path = write_raster(tmp_path / "v.tif", [v], GT, utm49_srs(), dtype=gdal.GDT_Float32, block=64)
    common = ["zonal", "--raster", path, "--zones", sites, "--stats", "count,mean", "--quiet"]
    run_reclaim(reclaim_bin, *common, "--out", tmp_path / "t.csv")
    run_reclaim(reclaim_bin, *common, "--out", tmp_path / "t.gpkg")
    with open(tmp_path / "t.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["fid"] for r in rows] == [str(k) for k in range(1, 26)]  # GeoPackage feature ids start at 1
    gpkg = ogr.Open(str(tmp_path / "t.gpkg"))
    layer = gpkg.GetLayer(0)
    assert layer.GetFIDColumn() != "fid"
    got = [(f.GetField("fid"), f.GetField("site_id"), f.GetField("v_count"), f.GetField("v_mean")) for f in layer]
    assert [g[0] for g in got] == [r["fid"] for r in rows]
    for g, r in zip(got, rows):
        assert g[1] == r["site_id"]
        assert g[2] == float(r["v_count"]) and g[3] == float(r["v_mean"])


def test_merge_tiles_and_shards_bit_identical(reclaim_bin, tmp_path, sites):
    """1 tile vs ~140 tiles vs 4 shards merged: identical sums (exact fixed-point accumulators;
    integer addition makes the order irrelevant), so CSV text is equal digit for digit."""
    rng = np.random.default_rng(9)
    v = (rng.normal(0, 1, (300, 420)) * 10 ** rng.uniform(-3, 3, (300, 420))).astype(np.float32)
    v[rng.random(v.shape) < 0.05] = -9999
    stats = "count,nodata_count,sum,mean,stddev,min,max,median,p10,p90,area_ha,valid_area_ha,coverage"
    common = ["--zones", sites, "--id-field", "site_id", "--stats", stats, "--histogram-range", "-100,100",
              "--name", "v", "--quiet"]
    whole1 = write_raster(tmp_path / "whole1.tif", [v], GT, utm49_srs(), dtype=gdal.GDT_Float32, nodata=-9999,
                          block=None)
    whole140 = write_raster(tmp_path / "whole140.tif", [v], GT, utm49_srs(), dtype=gdal.GDT_Float32, nodata=-9999,
                            block=32)
    run_reclaim(reclaim_bin, "zonal", "--raster", whole1, *common, "--out", tmp_path / "one.csv")
    run_reclaim(reclaim_bin, "zonal", "--raster", whole140, *common, "--out", tmp_path / "many.csv")
    # Four shards: quadrants as separate rasters, each with its own grid.
    partials = []
    for k, (r0, r1, c0, c1) in enumerate([(0, 130, 0, 200), (0, 130, 200, 420), (130, 300, 0, 250),
                                          (130, 300, 250, 420)]):
        gt = (GT[0] + c0 * GT[1], GT[1], 0, GT[3] + r0 * GT[5], 0, GT[5])
        shard = write_raster(tmp_path / f"s{k}.tif", [v[r0:r1, c0:c1]], gt, utm49_srs(), dtype=gdal.GDT_Float32,
                             nodata=-9999, block=64)
        partials.append(tmp_path / f"s{k}.bin")
        run_reclaim(reclaim_bin, "zonal", "--raster", shard, *common, "--partial", partials[-1])
    run_reclaim(reclaim_bin, "merge", partials[2], partials[0], partials[3], partials[1], "--out",
                tmp_path / "merged.csv", "--quiet")
    one = open(tmp_path / "one.csv").read()
    assert open(tmp_path / "many.csv").read() == one
    merged = read_csv(tmp_path / "merged.csv")
    single = read_csv(tmp_path / "one.csv")
    assert any(col.endswith("_stddev") for col in next(iter(single.values())))
    for site, row in single.items():
        for col, text in row.items():  # stddev too: formed from exact sums of w x and w x^2 (issue 14)
            assert merged[site][col] == text, (site, col)
    # The merged table is also a GeoPackage (geometries re-read from the recorded zones file).
    run_reclaim(reclaim_bin, "merge", *partials, "--out", tmp_path / "merged.gpkg", "--quiet")
    merged_ds = ogr.Open(str(tmp_path / "merged.gpkg"))
    assert merged_ds.GetLayer(0).GetFeatureCount() == 25


def test_merge_rejects_mismatched_partials(reclaim_bin, tmp_path, sites):
    v = np.ones((300, 420), np.float32)
    path = write_raster(tmp_path / "v.tif", [v], GT, utm49_srs(), dtype=gdal.GDT_Float32, block=64)
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    run_reclaim(reclaim_bin, "zonal", "--raster", path, "--zones", sites, "--stats", "mean", "--partial", a, "--quiet")
    run_reclaim(reclaim_bin, "zonal", "--raster", path, "--zones", sites, "--stats", "mean", "--coverage", "center",
                "--partial", b, "--quiet")
    proc = run_reclaim(reclaim_bin, "merge", a, b, "--out", tmp_path / "m.csv", check=False)
    assert proc.returncode == 3 and "b.bin" in proc.stderr and "coverage" in proc.stderr
    assert not (tmp_path / "m.csv").exists()
    (tmp_path / "bad.bin").write_bytes(a.read_bytes()[:-5])
    proc = run_reclaim(reclaim_bin, "merge", a, tmp_path / "bad.bin", "--out", tmp_path / "m.csv", check=False)
    assert proc.returncode == 3 and "bad.bin" in proc.stderr
    # Percentiles need one binning for every shard.
    proc = run_reclaim(reclaim_bin, "zonal", "--raster", path, "--zones", sites, "--stats", "median", "--partial",
                       a, check=False)
    assert proc.returncode == 2 and "--histogram-range" in proc.stderr


def halves(tmp_path, v, name_option=("--name", "v")):
    """The west and east halves of `v` as rasters of their own (the shards of the README), their
    partials, and the partial of the whole raster: (whole.bin, west.bin, east.bin)."""
    split = v.shape[1] // 2
    out = []
    for stem, plane, col in (("whole", v, 0), ("west", v[:, :split], 0), ("east", v[:, split:], split)):
        gt = (GT[0] + col * GT[1], GT[1], 0, GT[3], 0, GT[5])
        out.append((write_raster(tmp_path / f"{stem}.tif", [plane], gt, utm49_srs(), dtype=gdal.GDT_Float32,
                                 block=64), tmp_path / f"{stem}.bin"))
    return out


def partial_header(path):
    """The JSON header of a partial file (after "RZPT", u32 version, u64 length)."""
    data = path.read_bytes()
    (length,) = struct.unpack_from("<Q", data, 8)
    return json.loads(data[16:16 + length])


def test_merge_refuses_a_partial_twice_a_copy_and_overlapping_shards(reclaim_bin, tmp_path, sites):
    """Regression (issue 10): each of these used to merge silently, areas doubled. Refused with
    one line naming both files, before anything is written; disjoint halves still give the
    numbers of one pass."""
    rng = np.random.default_rng(4)
    v = rng.normal(0.3, 0.2, (300, 420)).astype(np.float32)
    common = ["--zones", sites, "--id-field", "site_id", "--stats", "count,mean,area_ha", "--name", "v", "--quiet"]
    (whole, whole_bin), (west, west_bin), (east, east_bin) = halves(tmp_path, v)
    for raster, partial in ((whole, whole_bin), (west, west_bin), (east, east_bin)):
        run_reclaim(reclaim_bin, "zonal", "--raster", raster, *common, "--partial", partial)
    out = tmp_path / "m.csv"
    line = fails(reclaim_bin, EXIT_INPUT, "merge", west_bin, west_bin, "--out", out, "--quiet")
    assert line.count("west.bin") == 2 and "same content id" in line
    shutil.copy(west_bin, tmp_path / "copy.bin")
    line = fails(reclaim_bin, EXIT_INPUT, "merge", west_bin, east_bin, tmp_path / "copy.bin", "--out", out, "--quiet")
    assert "copy.bin" in line and "west.bin" in line and "east.bin" not in line
    line = fails(reclaim_bin, EXIT_INPUT, "merge", whole_bin, west_bin, "--out", out, "--partial", tmp_path / "m.bin",
                 "--quiet")
    assert "west.bin: overlaps" in line and "whole.bin" in line
    assert not out.exists() and not (tmp_path / "m.bin").exists()
    # What each partial covers: its raster's whole grid.
    header = partial_header(west_bin)
    assert header["covered"] == [{"sources": [str(west)], "crs_wkt": header["crs_wkt"],
                                  "geotransform": list(gdal.Open(str(west)).GetGeoTransform()),
                                  "size": [210, 300], "window": [0, 0, 210, 300]}]
    # A partial of partials carries its shards' windows: merging it with one of them is refused too.
    run_reclaim(reclaim_bin, "merge", west_bin, east_bin, "--partial", tmp_path / "halves.bin", "--quiet")
    assert [c["sources"] for c in partial_header(tmp_path / "halves.bin")["covered"]] == [[str(west)], [str(east)]]
    line = fails(reclaim_bin, EXIT_INPUT, "merge", tmp_path / "halves.bin", east_bin, "--out", out, "--quiet")
    assert "east.bin: overlaps" in line and "halves.bin" in line
    # Disjoint halves: the numbers of the whole, digit for digit.
    run_reclaim(reclaim_bin, "merge", east_bin, west_bin, "--out", out, "--quiet")
    run_reclaim(reclaim_bin, "zonal", "--raster", whole, *common, "--out", tmp_path / "one.csv")
    assert out.read_text() == (tmp_path / "one.csv").read_text()


def test_partial_header_has_a_checksum_and_a_version(reclaim_bin, tmp_path, sites):
    """Regression (issue 10): a flipped byte in the header renamed a column; now the header's
    SHA-256 is checked. A file of an older format version is refused by name and version."""
    v = np.ones((300, 420), np.float32)
    path = write_raster(tmp_path / "v.tif", [v], GT, utm49_srs(), dtype=gdal.GDT_Float32, block=64)
    good = tmp_path / "good.bin"
    run_reclaim(reclaim_bin, "zonal", "--raster", path, "--zones", sites, "--stats", "mean", "--partial", good,
                "--quiet")
    data = bytearray(good.read_bytes())
    at = data.index(b'"name":"v"')
    data[at + len('"name":"')] = ord("w")  # still valid JSON: a column "w_mean"
    (tmp_path / "flipped.bin").write_bytes(bytes(data))
    out = tmp_path / "m.csv"
    line = fails(reclaim_bin, EXIT_INPUT, "merge", tmp_path / "flipped.bin", "--out", out, "--quiet")
    assert "flipped.bin" in line and "header checksum" in line
    old = bytearray(good.read_bytes())
    old[4:8] = struct.pack("<I", 1)
    (tmp_path / "old.bin").write_bytes(bytes(old))
    line = fails(reclaim_bin, EXIT_INPUT, "merge", tmp_path / "old.bin", "--out", out, "--quiet")
    assert "old.bin" in line and "version 1" in line
    old[4:8] = struct.pack("<I", 2)  # version 2: M2 in double (issue 14)
    (tmp_path / "old.bin").write_bytes(bytes(old))
    line = fails(reclaim_bin, EXIT_INPUT, "merge", tmp_path / "old.bin", "--out", out, "--quiet")
    assert "old.bin" in line and "version 2" in line
    assert not out.exists()
    run_reclaim(reclaim_bin, "merge", good, "--out", out, "--quiet")
    assert "v_mean" in out.read_text().splitlines()[0]


def test_partial_records_the_zones_path_absolute(reclaim_bin, tmp_path, sites):
    """Regression (issue 10): a relative --zones was recorded as given, so a merge to .gpkg from
    another folder could not re-read the geometries."""
    run_dir, merge_dir = tmp_path / "run", tmp_path / "merge"
    run_dir.mkdir()
    merge_dir.mkdir()
    shutil.copy(sites, run_dir / "sites.gpkg")
    v = np.ones((300, 420), np.float32)
    write_raster(run_dir / "v.tif", [v], GT, utm49_srs(), dtype=gdal.GDT_Float32, block=64)
    run_reclaim(reclaim_bin, "zonal", "--raster", "v.tif", "--zones", "sites.gpkg", "--stats", "count",
                "--partial", "v.bin", "--quiet", cwd=run_dir)
    recorded = Path(partial_header(run_dir / "v.bin")["zones_path"])
    assert recorded.is_absolute() and recorded.resolve() == (run_dir / "sites.gpkg").resolve()
    run_reclaim(reclaim_bin, "merge", run_dir / "v.bin", "--out", "m.gpkg", "--quiet", cwd=merge_dir)
    assert ogr.Open(str(merge_dir / "m.gpkg")).GetLayer(0).GetFeatureCount() == 25


def test_merge_of_shards_named_after_their_files_names_the_fix(reclaim_bin, tmp_path, sites):
    """Regression (issue 10): without --name each shard's product is its file stem ("west",
    "east"), and merge only said the products differ."""
    v = np.ones((300, 420), np.float32)
    _, (west, west_bin), (east, east_bin) = halves(tmp_path, v)
    for raster, partial in ((west, west_bin), (east, east_bin)):
        run_reclaim(reclaim_bin, "zonal", "--raster", raster, "--zones", sites, "--stats", "count", "--partial",
                    partial, "--quiet")
    line = fails(reclaim_bin, EXIT_INPUT, "merge", west_bin, east_bin, "--out", tmp_path / "m.csv", "--quiet")
    assert "east.bin" in line and "west.bin" in line and "give every shard the same --name" in line
    assert not (tmp_path / "m.csv").exists()


def ellipsoid_band_area(lat1, lat2, dlon_deg, a=6378137.0, f=1 / 298.257223563):
    """Closed-form area (m^2) of a lat/lon quadrangle on the WGS84 ellipsoid."""
    e2 = f * (2 - f)
    e = math.sqrt(e2)
    b2 = a * a * (1 - e2)

    def q(lat):
        s = math.sin(math.radians(lat))
        return s / (1 - e2 * s * s) + math.log((1 + e * s) / (1 - e * s)) / (2 * e)

    return b2 / 2 * (q(lat2) - q(lat1)) * math.radians(dlon_deg)


def test_geographic_crs_area_matches_ellipsoid(reclaim_bin, tmp_path):
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    gt = (110.0, 0.001, 0, 41.0, 0, -0.001)
    path = write_raster(tmp_path / "geo.tif", [np.ones((1000, 1000), np.float32)], gt, srs, dtype=gdal.GDT_Float32,
                        block=256)
    # 0.3 x 0.25 degrees, edges on fractions of a pixel (exact mode weights the fractions).
    x0, x1, y0, y1 = 110.1002, 110.4002, 40.30025, 40.55025
    zone = f"POLYGON(({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0}))"
    zones = write_zones(tmp_path / "g.gpkg", [zone], srs, ids=["Q"])
    run_reclaim(reclaim_bin, "zonal", "--raster", path, "--zones", zones, "--id-field", "site_id", "--stats",
                "area_ha,count", "--out", tmp_path / "g.csv", "--quiet")
    row = read_csv(tmp_path / "g.csv")["Q"]
    truth_ha = ellipsoid_band_area(y0, y1, x1 - x0) / 1e4
    assert num(row["geo_area_ha"]) == pytest.approx(truth_ha, rel=1e-9)
    assert num(row["geo_count"]) == pytest.approx(300 * 250, rel=1e-9)


def test_zones_inside_change_pass(reclaim_bin, tmp_path):
    """reclaim change --zones: class hectares and dNDVI statistics per site from the same pass,
    equal to numpy over the written rasters with GDAL-rasterized masks."""
    demo = tmp_path / "demo"
    run_reclaim(reclaim_bin, "synth", "--out", demo, "--width", "600", "--height", "600")
    out = tmp_path / "chg"
    run_reclaim(reclaim_bin, "change", "--before", demo / "2019.tif", "--after", demo / "2025.tif", "--index", "ndvi",
                "--zones", demo / "sites.gpkg", "--id-field", "site_id", "--coverage", "center", "--zone-stats",
                "count,mean,min,max", "--out", out, "--quiet")
    table = read_csv(out / "zonal.csv")
    classes = gdal.Open(str(out / "change_class.tif")).ReadAsArray()
    dndvi = gdal.Open(str(out / "dndvi.tif")).ReadAsArray().astype(np.float64)
    ndvi_a = gdal.Open(str(out / "after_ndvi.tif")).ReadAsArray().astype(np.float64)
    ds = gdal.Open(str(out / "dndvi.tif"))
    masks = rasterize_masks(demo / "sites.gpkg", classes.shape, ds.GetGeoTransform())
    assert len(masks) == len(table) > 0
    for site, mask in masks.items():
        row = table[site]
        counts = np.bincount(classes[mask], minlength=256)
        assert num(row["change_class_revegetated_ha"]) == pytest.approx(counts[2] * 0.01, abs=1e-9)
        assert num(row["change_class_stable_bare_ha"]) == pytest.approx(counts[1] * 0.01, abs=1e-9)
        vals = dndvi[mask]
        vals = vals[np.isfinite(vals)]
        assert num(row["dndvi_count"]) == vals.size
        if vals.size:
            assert num(row["dndvi_mean"]) == pytest.approx(vals.mean(), rel=1e-9, abs=1e-12)
            assert num(row["dndvi_min"]) == vals.min() and num(row["dndvi_max"]) == vals.max()
        a = ndvi_a[mask]
        a = a[np.isfinite(a)]
        if a.size:
            assert num(row["after_ndvi_mean"]) == pytest.approx(a.mean(), rel=1e-9, abs=1e-12)


def test_zones_inside_indices_pass(reclaim_bin, tmp_path):
    demo = tmp_path / "demo"
    run_reclaim(reclaim_bin, "synth", "--out", demo, "--width", "600", "--height", "600")
    out = tmp_path / "idx"
    run_reclaim(reclaim_bin, "indices", "--input", f"y2019={demo / '2019.tif'}", "--input",
                f"y2025={demo / '2025.tif'}", "--index", "ndvi,bsi", "--zones", demo / "sites.gpkg", "--id-field",
                "site_id", "--coverage", "center", "--zone-stats", "mean,median", "--zones-out", out / "sites.json",
                "--out", out, "--quiet")
    doc = json.load(open(out / "sites.json"))
    assert {"y2019_ndvi_mean", "y2019_bsi_mean", "y2025_ndvi_median", "y2025_bsi_median"} <= set(doc["columns"])
    for product in ("y2019_ndvi", "y2025_bsi"):
        ds = gdal.Open(str(out / f"{product}.tif"))
        values = ds.ReadAsArray().astype(np.float64)
        masks = rasterize_masks(demo / "sites.gpkg", values.shape, ds.GetGeoTransform())
        for z in doc["zones"]:
            vals = values[masks[z["id"]]]
            vals = vals[np.isfinite(vals)]
            if not vals.size:
                continue
            assert z[product + "_mean"] == pytest.approx(vals.mean(), rel=1e-9, abs=1e-12)
            # Histogram median: within one bin width (2/1024) of the inverted-CDF median.
            truth = np.percentile(vals, 50, method="inverted_cdf")
            assert abs(z[product + "_median"] - truth) <= 2.0 / 1024 + 1e-9
