"""Epochs from many scenes: STAC inventories composited per pixel (reclaim composite, and the
composited epochs of assess), against numpy in float64, gdalwarp and reclaim's own one-scene path.

The scenes are generated here: one GeoTIFF per band and an SCL mask, listed in a STAC
ItemCollection in Earth Search v1's form (lower-case asset keys, eo:bands common names,
raster:bands scale 0.0001 and offset -0.1 with earthsearch:boa_offset_applied: the offset is
already in the DNs, docs/inventories.md), so a reflectance is DN x 1e-4, NaN where the DN is 0
(nodata) or SCL is 3, 8, 9 or 10.
"""
import csv
import json
import math

import numpy as np
import pytest
from osgeo import gdal, osr

from conftest import run_reclaim, write_raster

gdal.UseExceptions()

BANDS = ["blue", "green", "red", "nir", "swir16", "swir22"]       # asset keys
OUT_BANDS = ["blue", "green", "red", "nir", "swir1", "swir2"]     # reclaim's band names
S2_NAMES = ["B02", "B03", "B04", "B08", "B11", "B12"]
MASKED_SCL = (3, 8, 9, 10)


def srs_of(epsg):
    s = osr.SpatialReference()
    s.ImportFromEPSG(epsg)
    return s


def scene_planes(rng, h, w, greenness):
    """DNs of six bands (vegetation share `greenness`), nodata specks, and an SCL plane with clouds."""
    veg = rng.random((h, w)) < greenness
    lo_hi = {  # (vegetated, bare) DN ranges per band
        "blue": ((150, 600), (800, 1600)), "green": ((400, 900), (1000, 1900)),
        "red": ((200, 600), (1400, 2400)), "nir": ((2500, 4500), (1800, 2900)),
        "swir16": ((1200, 2200), (2600, 3800)), "swir22": ((600, 1200), (2000, 3200))}
    planes = []
    for b in BANDS:
        (a0, a1), (b0, b1) = lo_hi[b]
        v = np.where(veg, rng.integers(a0, a1, (h, w)), rng.integers(b0, b1, (h, w))).astype(np.uint16)
        v[rng.random((h, w)) < 0.01] = 0
        planes.append(v)
    # Ties: a block of pixels with the same DNs in every scene.
    for v in planes:
        v[:4, :4] = 1500
    scl = rng.choice([4, 5, 3, 8, 9, 10], size=(h, w), p=[0.5, 0.2, 0.075, 0.075, 0.075, 0.075]).astype(np.uint16)
    return planes, scl


def write_scene(folder, item_id, planes, scl, gt, epsg, when, platform="sentinel-2a", cloud=20.0):
    """Band files + a STAC item (Earth Search v1 form) with hrefs relative to `folder`."""
    srs = srs_of(epsg)
    assets = {}
    for key, name, plane in zip(BANDS, S2_NAMES, planes):
        path = folder / f"{item_id}_{key}.tif"
        write_raster(path, [plane], gt, srs, nodata=0)
        assets[key] = {"href": path.name, "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                       "roles": ["data"], "eo:bands": [{"name": name, "common_name": key}],
                       "raster:bands": [{"nodata": 0, "data_type": "uint16", "scale": 0.0001, "offset": -0.1}]}
    path = folder / f"{item_id}_scl.tif"
    write_raster(path, [scl], gt, srs)
    assets["scl"] = {"href": path.name, "type": "image/tiff", "roles": ["data"],
                     "raster:bands": [{"nodata": 0, "data_type": "uint8"}]}
    h, w = scl.shape
    x0, y0 = gt[0], gt[3]
    x1, y1 = x0 + gt[1] * w, y0 + gt[5] * h
    ct = osr.CoordinateTransformation(srs, srs_of(4326))
    corners = [ct.TransformPoint(x, y)[:2] for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))]
    lats = [c[0] for c in corners]
    lons = [c[1] for c in corners]
    return {
        "type": "Feature", "stac_version": "1.0.0", "id": item_id, "collection": "sentinel-2-l2a",
        "stac_extensions": ["https://stac-extensions.github.io/eo/v1.1.0/schema.json",
                            "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
                            "https://stac-extensions.github.io/projection/v1.1.0/schema.json"],
        "bbox": [min(lons), min(lats), max(lons), max(lats)],
        "geometry": {"type": "Polygon", "coordinates": [[[lo, la] for la, lo in corners + corners[:1]]]},
        "properties": {"datetime": when, "platform": platform, "constellation": "sentinel-2",
                       "eo:cloud_cover": cloud, "proj:epsg": epsg, "earthsearch:boa_offset_applied": True},
        "assets": assets, "links": []}


def write_collection(path, items):
    path.write_text(json.dumps({"type": "FeatureCollection", "features": items}))
    return path


def reflectance(planes, scl):
    """Float64 reflectance as reclaim stores an observation: DN x 1e-4, rounded to float32;
    NaN where any band is nodata or SCL masks the pixel."""
    r = np.stack([np.where(p == 0, np.nan, p.astype(np.float64) * 0.0001) for p in planes])
    clear = ~np.isin(scl, MASKED_SCL) & np.all(np.isfinite(r), axis=0)
    r = r.astype(np.float32).astype(np.float64)
    r[:, ~clear] = np.nan
    return r


def read(path):
    ds = gdal.Open(str(path))
    return ds.GetRasterBand(1).ReadAsArray().astype(np.float64), ds


def ndvi(obs):
    red, nir = obs[:, 2], obs[:, 3]
    with np.errstate(invalid="ignore", divide="ignore"):
        return (nir - red) / (nir + red)


def assert_float32_close(actual, expected, name):
    """Equal to the float64 value rounded to float32, within one float32 step."""
    exp32 = expected.astype(np.float32).astype(np.float64)
    both_nan = np.isnan(actual) & np.isnan(exp32)
    assert np.array_equal(np.isnan(actual), np.isnan(exp32)), f"{name}: NaN pattern differs"
    step = np.spacing(np.abs(exp32).astype(np.float32)).astype(np.float64)
    ok = both_nan | (np.abs(actual - exp32) <= step)
    assert ok.all(), f"{name}: {np.count_nonzero(~ok)} pixels off by more than one float32 step"


GT = (500000.0, 10.0, 0.0, 3300000.0, 0.0, -10.0)
H, W = 50, 60


@pytest.fixture(scope="module")
def season(tmp_path_factory):
    """Six scenes on five days (two MGRS-like tiles on day 3), one with higher cloud cover."""
    folder = tmp_path_factory.mktemp("season")
    rng = np.random.default_rng(11)
    days = ["2019-06-05", "2019-06-20", "2019-07-10", "2019-07-10", "2019-08-04", "2019-09-14"]
    ids = ["S2A_T49_0605", "S2A_T49_0620", "S2A_T49_0710", "S2A_T50_0710", "S2A_T49_0804", "S2A_T49_0914"]
    clouds = [10.0, 35.0, 20.0, 20.0, 80.0, 5.0]
    items, obs = [], []
    for k, (day, item_id, cloud) in enumerate(zip(days, ids, clouds)):
        planes, scl = scene_planes(rng, H, W, greenness=0.3 + 0.1 * k)
        gt = GT
        if item_id == "S2A_T50_0710":  # the neighbouring tile of the same overpass: columns 20.. only
            planes = [p[:, 20:] for p in planes]
            scl = scl[:, 20:]
            gt = (GT[0] + 20 * GT[1],) + GT[1:]
        items.append(write_scene(folder, item_id, planes, scl, gt, 32649, day + "T03:15:00Z", cloud=cloud))
        r = reflectance(planes, scl)
        if item_id == "S2A_T50_0710":
            full = np.full((6, H, W), np.nan)
            full[:, :, 20:] = r
            r = full
        obs.append(r)
    # One observation per day: the first scene of the day (by id) that is clear at the pixel.
    day3 = obs[2].copy()
    fill = np.isnan(day3[0]) & ~np.isnan(obs[3][0])
    day3[:, fill] = obs[3][:, fill]
    per_day = [obs[0], obs[1], day3, obs[4], obs[5]]
    return {"folder": folder, "items": write_collection(folder / "items.json", items),
            "per_day": np.stack(per_day), "clouds": [10.0, 35.0, 20.0, 80.0, 5.0]}


def composite(reclaim_bin, season, out, *extra):
    return run_reclaim(reclaim_bin, "composite", "--input", f"2019={season['items']}", "--out", out,
                       "--percentiles", "10,50,90", *extra)


def test_median_composite_against_numpy(reclaim_bin, season, tmp_path):
    composite(reclaim_bin, season, tmp_path)
    obs = season["per_day"]  # day, band, y, x
    with np.errstate(all="ignore"):
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            for b, name in enumerate(OUT_BANDS):
                got, ds = read(tmp_path / f"2019_{name}.tif")
                assert_float32_close(got, np.nanmedian(obs[:, b], axis=0), f"median {name}")
            count, _ = read(tmp_path / "2019_clear_count.tif")
            assert np.array_equal(count, np.sum(np.isfinite(obs[:, 0]), axis=0))
            assert (count == 0).any() and (count == 5).any() and ((count % 2) == 0).any(), "cases not covered"
            v = ndvi(obs)
            for q in (10, 50, 90):
                got, _ = read(tmp_path / f"2019_ndvi_p{q}.tif")
                assert_float32_close(got, np.nanpercentile(v, q, axis=0, method="linear"), f"NDVI p{q}")
    info = gdal.Info(str(tmp_path / "2019_red.tif"), format="json")
    assert info["metadata"][""]["RECLAIM_COMPOSITE_RULE"] == "median"
    assert "5 of 6" not in info["metadata"][""]["RECLAIM_COMPOSITE"]  # six scenes kept, five days
    assert "6 of 6 scenes" in info["metadata"][""]["RECLAIM_COMPOSITE"]
    structure = gdal.Info(str(tmp_path / "2019_red.tif"), format="json")["metadata"].get("IMAGE_STRUCTURE", {})
    assert structure.get("LAYOUT") == "COG"


def test_max_ndvi_and_medoid_pick_whole_observations(reclaim_bin, season, tmp_path):
    obs = season["per_day"]
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        v = ndvi(obs)
        clear = np.isfinite(obs[:, 0])
        # Greenest: highest NDVI, the earliest on ties.
        key = np.where(clear, np.where(np.isnan(v), -np.inf, v), np.nan)
        any_clear = clear.any(axis=0)
        greenest = np.nanargmax(np.where(any_clear, key, 0.0), axis=0)
        # Medoid: closest (Euclidean over the six bands) to the per-band median, earliest on ties.
        med = np.nanmedian(obs, axis=0)
        dist = np.sqrt(np.nansum((obs - med[None]) ** 2, axis=1))
        dist[~clear] = np.inf
        medoid = np.argmin(dist, axis=0)
    for rule, pick in (("max-ndvi", greenest), ("medoid", medoid)):
        out = tmp_path / rule
        composite(reclaim_bin, season, out, "--composite", rule)
        for b, name in enumerate(OUT_BANDS):
            got, _ = read(out / f"2019_{name}.tif")
            want = np.take_along_axis(obs[:, b], pick[None], axis=0)[0]
            want[~any_clear] = np.nan
            both = np.isnan(got) & np.isnan(want)
            assert (both | (got == want)).all(), f"{rule} {name}: {np.count_nonzero(~(both | (got == want)))} px differ"


def test_window_and_cloud_filters(reclaim_bin, season, tmp_path):
    out = tmp_path / "summer"
    composite(reclaim_bin, season, out, "--window", "06-15/08-31", "--max-cloud", "50")
    # Kept: 06-20 (35 %), 07-10 (both tiles); left out: 06-05 (window), 08-04 (80 %), 09-14 (window).
    obs = season["per_day"][[1, 2]]
    count, _ = read(out / "2019_clear_count.tif")
    assert np.array_equal(count, np.sum(np.isfinite(obs[:, 0]), axis=0))
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got, _ = read(out / "2019_nir.tif")
        assert_float32_close(got, np.nanmedian(obs[:, 3], axis=0), "median nir (filtered)")


def test_a_window_with_no_scene_is_refused(reclaim_bin, season, tmp_path):
    proc = run_reclaim(reclaim_bin, "composite", "--input", f"2019={season['items']}", "--out", tmp_path / "none",
                       "--window", "2020-06-01/2020-09-30", check=False)
    assert proc.returncode == 3, proc.stderr
    assert "items.json" in proc.stderr and "no scene" in proc.stderr
    assert not (tmp_path / "none").exists()


def test_an_item_without_a_band_asset_is_named(reclaim_bin, season, tmp_path):
    doc = json.loads(season["items"].read_text())
    del doc["features"][1]["assets"]["red"]
    bad = season["folder"] / "no_red.json"
    bad.write_text(json.dumps(doc))
    proc = run_reclaim(reclaim_bin, "composite", "--input", f"2019={bad}", "--out", tmp_path / "o", check=False)
    assert proc.returncode == 3, proc.stderr
    assert "no_red.json" in proc.stderr and "S2A_T49_0620" in proc.stderr and "red" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_scene_that_cannot_be_read_is_named(reclaim_bin, season, tmp_path):
    doc = json.loads(season["items"].read_text())
    doc["features"][0]["assets"]["nir"]["href"] = "missing_nir.tif"
    bad = season["folder"] / "unreadable.json"
    bad.write_text(json.dumps(doc))
    proc = run_reclaim(reclaim_bin, "composite", "--input", f"2019={bad}", "--out", tmp_path / "o", check=False)
    assert proc.returncode == 3, proc.stderr
    assert "missing_nir.tif" in proc.stderr
    assert not (tmp_path / "o").exists()


def test_mosaic_across_utm_zones_matches_gdalwarp(reclaim_bin, tmp_path):
    """Two scenes either side of the 49N/50N boundary (114 E), one in each zone: the composite on
    the first scene's grid (extended to both) against gdalwarp of each band onto that grid."""
    rng = np.random.default_rng(5)
    # Zone 49 scene just west of 114 E; zone 50 scene just east of it, overlapping.
    srs49, srs50 = srs_of(32649), srs_of(32650)
    to49 = osr.CoordinateTransformation(srs_of(4326), srs49)
    to50 = osr.CoordinateTransformation(srs_of(4326), srs50)
    x49, y49, _ = to49.TransformPoint(30.0, 113.985)   # lat, lon (EPSG:4326 axis order)
    x50, y50, _ = to50.TransformPoint(30.0, 113.997)
    gt49 = (math.floor(x49 / 10) * 10, 10.0, 0.0, math.floor(y49 / 10) * 10 + 600, 0.0, -10.0)
    gt50 = (math.floor(x50 / 10) * 10, 10.0, 0.0, math.floor(y50 / 10) * 10 + 560, 0.0, -10.0)
    items = []
    p49, s49 = scene_planes(rng, 120, 140, 0.5)
    p50, s50 = scene_planes(rng, 110, 150, 0.5)
    s49[:] = 4
    s50[:] = 4  # no clouds: the test is about geometry
    items.append(write_scene(tmp_path, "A_z49", p49, s49, gt49, 32649, "2020-07-01T03:00:00Z"))
    items.append(write_scene(tmp_path, "B_z50", p50, s50, gt50, 32650, "2020-07-06T03:00:00Z"))
    inv = write_collection(tmp_path / "mosaic.json", items)
    out = tmp_path / "out"
    run_reclaim(reclaim_bin, "composite", "--input", f"2020={inv}", "--out", out, "--bands-out", "red,nir")
    red, ds = read(out / "2020_red.tif")
    grid = ds.GetGeoTransform(), ds.RasterXSize, ds.RasterYSize
    assert ds.GetSpatialRef().GetAuthorityCode(None) == "32649"
    assert ds.RasterXSize > 140, "the grid was not extended to the zone-50 scene"

    def warped(item_id, key, resample):
        gt, w, h = grid
        dst = gdal.Warp("", str(tmp_path / f"{item_id}_{key}.tif"), format="MEM", dstSRS="EPSG:32649",
                        outputBounds=(gt[0], gt[3] + gt[5] * h, gt[0] + gt[1] * w, gt[3]), width=w, height=h,
                        resampleAlg=resample, srcNodata=0, dstNodata=float("nan"), outputType=gdal.GDT_Float32,
                        warpOptions=["XSCALE=1", "YSCALE=1"])  # same resolution: no widened kernel
        return dst.GetRasterBand(1).ReadAsArray().astype(np.float64)

    refl = []
    for item_id in ("A_z49", "B_z50"):
        # An observation is clear where all six bands have a value (docs/composites.md).
        clear = np.all([np.isfinite(warped(item_id, key, "bilinear")) for key in BANDS], axis=0)
        dn = warped(item_id, "red", "bilinear")
        refl.append(np.where(clear, (dn * 0.0001).astype(np.float32).astype(np.float64), np.nan))
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = np.nanmedian(np.stack(refl), axis=0)
    # Where the scenes' edges fall (bilinear next to nodata) decides which observations a pixel
    # has; compare values where reclaim and the reference count the same observations.
    count, _ = read(out / "2020_clear_count.tif")
    count_ref = np.isfinite(refl[0]).astype(int) + np.isfinite(refl[1])
    same_count = np.mean(count == count_ref)
    cover = (count == count_ref) & (count > 0)
    diff = np.abs(red - want)[cover]
    within = np.mean(diff <= 1e-4)
    print(f"mosaic vs gdalwarp: observation counts agree on {same_count:.4%} of pixels; where they do, "
          f"{within:.4%} within 1e-4 reflectance, max diff {diff.max():.2e}")
    # Measured: counts agree on 99.99 % (the rest: edge pixels of the rotated scene, where the
    # bilinear kernel meets its nodata); where they agree, 92.8 % within 1e-4 and all within
    # 3.6e-4 reflectance (3.6 DN: gdalwarp linearises the transformation over other chunks
    # than the warped VRT reclaim reads).
    assert same_count >= 0.995
    assert within >= 0.9
    assert diff.max() <= 1e-3
    both = np.isfinite(refl[0]) & np.isfinite(refl[1])
    assert both.sum() > 1000, "the two zones' scenes should overlap"


def test_assess_on_composited_epochs_equals_assess_on_written_composites(reclaim_bin, season, tmp_path):
    """assess with two inventory epochs gives the per-site results of assess on the composites
    written first by reclaim composite and read back (a VRT stack per epoch)."""
    folder = season["folder"]
    rng = np.random.default_rng(21)
    later = []
    for k, day in enumerate(["2025-06-12", "2025-07-17", "2025-08-21"]):
        planes, scl = scene_planes(rng, H, W, greenness=0.7 + 0.05 * k)
        later.append(write_scene(folder, f"S2B_T49_{day}", planes, scl, GT, 32649, day + "T03:15:00Z",
                                 platform="sentinel-2b"))
    inv25 = write_collection(folder / "items_2025.json", later)
    # Sites: two squares inside the grid, in its CRS.
    sites = tmp_path / "sites.geojson"
    def square(x0, y0, size):
        return [[[x0, y0], [x0 + size, y0], [x0 + size, y0 - size], [x0, y0 - size], [x0, y0]]]
    feats = [{"type": "Feature", "properties": {"site_id": sid},
              "geometry": {"type": "Polygon", "coordinates": square(GT[0] + ox, GT[3] - oy, 150)}}
             for sid, ox, oy in (("a", 55, 45), ("b", 300, 200))]
    sites.write_text(json.dumps({"type": "FeatureCollection",
                                 "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32649"}},
                                 "features": feats}))
    direct = tmp_path / "direct"
    run_reclaim(reclaim_bin, "assess", "--before", f"2019={season['items']}", "--after", f"2025={inv25}",
                "--sites", sites, "--out", direct, "--no-pictures")
    stacks = {}
    for label, inv in (("2019", season["items"]), ("2025", inv25)):
        run_reclaim(reclaim_bin, "composite", "--input", f"{label}={inv}", "--out", tmp_path / f"c{label}")
        vrt = tmp_path / f"stack_{label}.vrt"
        gdal.BuildVRT(str(vrt), [str(tmp_path / f"c{label}" / f"{label}_{b}.tif") for b in OUT_BANDS],
                      separate=True)
        stacks[label] = vrt
    stacked = tmp_path / "stacked"
    run_reclaim(reclaim_bin, "assess", "--before", f"2019={stacks['2019']}", "--after", f"2025={stacks['2025']}",
                "--sensor", "generic", "--bands", "blue=1,green=2,red=3,nir=4,swir1=5,swir2=6", "--scale", "1",
                "--mask-band", "none", "--sites", sites, "--out", stacked, "--no-pictures")

    def rows(path):
        with open(path / "sites.csv", newline="") as f:
            return {r["site_id"]: r for r in csv.DictReader(f)}
    a, b = rows(direct), rows(stacked)
    assert a.keys() == b.keys() == {"a", "b"}
    numeric = [k for k in a["a"] if k not in ("site_id",)]
    compared = 0
    for sid in a:
        for k in numeric:
            assert a[sid][k] == b[sid][k], f"site {sid} {k}: {a[sid][k]} (composited epochs) vs {b[sid][k]}"
            compared += 1
    assert compared > 20
    assert float(a["a"]["ndvi_after_mean"]) > float(a["a"]["ndvi_before_mean"])


def test_indices_and_trend_take_inventory_epochs(reclaim_bin, season, tmp_path):
    """indices --input INVENTORY: the NDVI of the median composite (numpy, float64 from the
    float32 composite values); trend --epoch YEAR=INVENTORY reads composited epochs too."""
    run_reclaim(reclaim_bin, "indices", "--input", f"2019={season['items']}", "--index", "ndvi",
                "--out", tmp_path / "idx")
    obs = season["per_day"]
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        red = np.nanmedian(obs[:, 2], axis=0).astype(np.float32).astype(np.float64)
        nir = np.nanmedian(obs[:, 3], axis=0).astype(np.float32).astype(np.float64)
        want = (nir - red) / (nir + red)
    got, ds = read(tmp_path / "idx" / "2019_ndvi.tif")
    assert_float32_close(got, want, "NDVI of the median composite")
    assert "median" in ds.GetMetadataItem("RECLAIM_COMPOSITE")
    # Four composited epochs (the same season relabelled): a flat trend, every pixel with a
    # clear observation has n_valid 4 and slope 0.
    epochs = []
    for year in (2019, 2020, 2021, 2022):
        epochs += ["--epoch", f"{year}={season['items']}"]
    # A season window (MM-DD) would fall in each label's own year and keep nothing for 2020-2022;
    # full dates apply to every epoch.
    run_reclaim(reclaim_bin, "trend", *epochs, "--window", "2019-01-01/2019-12-31", "--out", tmp_path / "trend")
    n_valid, _ = read(tmp_path / "trend" / "trend_n_valid.tif")
    slope, _ = read(tmp_path / "trend" / "trend_slope.tif")
    has = np.isfinite(want)
    assert np.array_equal(n_valid[has], np.full(has.sum(), 4.0))
    assert np.all(slope[has] == 0)


def test_a_scene_listed_twice_is_refused(reclaim_bin, season, tmp_path):
    """A repeated item (or two items reading one file) would count one acquisition twice and
    pull the median towards it: refused, naming the item, nothing written."""
    doc = json.loads(season["items"].read_text())
    twice = dict(doc, features=doc["features"] + [doc["features"][1]])
    bad = season["folder"] / "twice.json"
    bad.write_text(json.dumps(twice))
    proc = run_reclaim(reclaim_bin, "composite", "--input", f"2019={bad}", "--out", tmp_path / "o", check=False)
    assert proc.returncode == 3, proc.stderr
    assert "S2A_T49_0620" in proc.stderr and "twice" in proc.stderr
    assert not (tmp_path / "o").exists()
    copy = json.loads(json.dumps(doc["features"][1]))
    copy["id"] = "S2A_T49_0620_copy"
    copy["properties"]["datetime"] = "2019-06-21T03:15:00Z"
    bad.write_text(json.dumps(dict(doc, features=doc["features"] + [copy])))
    proc = run_reclaim(reclaim_bin, "composite", "--input", f"2019={bad}", "--out", tmp_path / "o", check=False)
    assert proc.returncode == 3, proc.stderr
    assert "S2A_T49_0620_copy" in proc.stderr and "same file" in proc.stderr


def test_an_existing_composite_is_not_replaced(reclaim_bin, season, tmp_path):
    out = tmp_path / "once"
    composite(reclaim_bin, season, out)
    before = (out / "2019_red.tif").stat().st_mtime_ns
    proc = run_reclaim(reclaim_bin, "composite", "--input", f"2019={season['items']}", "--out", out, check=False)
    assert proc.returncode == 2, proc.stderr
    assert "2019_red.tif" in proc.stderr or "exist" in proc.stderr
    assert (out / "2019_red.tif").stat().st_mtime_ns == before
