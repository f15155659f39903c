"""Real STAC items of every big catalogue, read end to end by reclaim composite.

The items in $RECLAIM_REAL_DATA/stac/ (Earth Search v1, Planetary Computer, Earth Search v0,
USGS Landsat Collection 2 Level-2) are loaded as they are; only the hrefs of the assets reclaim
needs (six reflectance bands and the quality mask) are rewritten, to GeoTIFFs this test writes
with each asset's real shape, transform and CRS (per asset where the asset has its own
proj:shape / proj:transform: 20 m SWIR and SCL in Sentinel-2, 30 m Landsat) and the real data
type (uint16 bands, uint8 SCL, uint16 QA_PIXEL). A full 10980 x 10980 scene would be large, so
the files are tiled, DEFLATE and sparse (SPARSE_OK): only a small window near a corner of the
scene, shared by the items of a case, holds values; reclaim composite is run with
--target-grid a small raster inside that window, so only it is read.

Expected values are computed here, in float64, from the DNs written and each catalogue's
convention as its documentation gives it (written out below, independently of reclaim):

- Earth Search v1 (earthsearch:boa_offset_applied true): reflectance = DN x 1e-4; the
  raster:bands offset (-0.1) is already in the DNs and is not applied again. Nodata 0; SCL
  classes 3 (cloud shadow), 8, 9 (cloud medium/high probability), 10 (thin cirrus) masked.
- Planetary Computer Sentinel-2 L2A: DN x 1e-4 with the BOA_ADD_OFFSET (-1000 DN) only from
  processing baseline 04.00; these items are baseline 02.12, so no offset. Nodata 0, SCL as above.
- Earth Search v0 (sentinel-s2-l2a-cogs): DN x 1e-4; baseline from sentinel:product_id
  (N0214: 02.14, no offset). Nodata 0, SCL as above.
- USGS Landsat C2 L2 SR: reflectance = DN x 2.75e-5 - 0.2; nodata 0; QA_PIXEL bits 0-4
  (fill, dilated cloud, cirrus, cloud, cloud shadow: mask 0x1F) masked.
- Sentinel-2 and Landsat DNs of 65535 are saturated: not a value.

An observation is clear at a pixel when all six bands have a value and the mask keeps it; one
observation per platform and day (two MGRS tiles of one pass are one observation).
"""
import copy
import json
import os
import re
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal, osr

from conftest import run_reclaim

gdal.UseExceptions()

REAL = os.environ.get("RECLAIM_REAL_DATA", "")
STAC = Path(REAL) / "stac" if REAL else None
pytestmark = pytest.mark.skipif(
    STAC is None or not STAC.is_dir(),
    reason=f"real STAC items not found: RECLAIM_REAL_DATA/stac ({STAC}) is absent "
           "(set RECLAIM_REAL_DATA to the shared data/real folder)")

OUT_BANDS = ["blue", "green", "red", "nir", "swir1", "swir2"]      # reclaim's output names
S2_COMMON = ["blue", "green", "red", "nir", "swir16", "swir22"]    # eo:bands common names
LS_COMMON = ["blue", "green", "red", "nir08", "swir16", "swir22"]
SCL_MASKED = (3, 8, 9, 10)
QA_MASK = 0x1F

# The catalogues' conventions (documentation, not reclaim): reflectance = (DN + dn) * scale + offset.
S2_CONVENTION = {"scale": 1e-4, "offset": 0.0, "dn": 0.0}
LANDSAT_CONVENTION = {"scale": 2.75e-5, "offset": -0.2, "dn": 0.0}


# ---------------------------------------------------------------------------------------------
# Items and the files behind their assets


def load_items(name):
    doc = json.loads((STAC / name).read_text())
    return doc, (doc["features"] if doc.get("type") == "FeatureCollection" else [doc])


def band_asset_keys(item, common_names, mask_keys):
    """Asset keys of the six bands (the asset whose eo:bands has the single common name, the one
    keyed by the name itself preferred; else the well-known S2 keys) and of the mask."""
    keys = []
    s2_keys = {"blue": "B02", "green": "B03", "red": "B04", "nir": "B08", "swir16": "B11", "swir22": "B12"}
    for cn in common_names:
        found = [k for k, a in item["assets"].items()
                 if [b.get("common_name") for b in a.get("eo:bands", [])] == [cn]]
        if cn in found:
            keys.append(cn)
        elif found:
            assert len(found) == 1, (item["id"], cn, found)
            keys.append(found[0])
        else:
            keys.append(s2_keys[cn])
            assert keys[-1] in item["assets"], (item["id"], cn)
    mask = [k for k in mask_keys if k in item["assets"]]
    assert len(mask) == 1, (item["id"], mask)
    return keys, mask[0]


def asset_grid(item, key):
    """(rows, cols), GDAL geotransform and EPSG of an asset: its own proj:* where it has them,
    else the item's."""
    a, p = item["assets"][key], item["properties"]
    shape = a.get("proj:shape", p.get("proj:shape"))
    t = a.get("proj:transform", p.get("proj:transform"))
    epsg = a.get("proj:epsg", p.get("proj:epsg"))
    assert shape and t and epsg, (item["id"], key)
    gt = (t[2], t[0], t[1], t[5], t[3], t[4])      # STAC (affine a b c d e f) -> GDAL (c a b f d e)
    return (int(shape[0]), int(shape[1])), gt, int(epsg)


def srs_of(epsg):
    s = osr.SpatialReference()
    s.ImportFromEPSG(epsg)
    return s


def write_sparse(path, shape, gt, epsg, dtype, values, x0, y0):
    """A tiled DEFLATE sparse GeoTIFF of the asset's full shape; `values` written with its upper
    left corner at map (x0, y0), which must fall on the asset's pixel grid."""
    rows, cols = shape
    ds = gdal.GetDriverByName("GTiff").Create(str(path), cols, rows, 1, dtype,
                                              ["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256",
                                               "COMPRESS=DEFLATE", "SPARSE_OK=TRUE"])
    ds.SetGeoTransform(gt)
    ds.SetSpatialRef(srs_of(epsg))
    col = (x0 - gt[0]) / gt[1]
    row = (y0 - gt[3]) / gt[5]
    assert col == int(col) and row == int(row), (path, col, row)
    assert 0 <= col and 0 <= row and col + values.shape[1] <= cols and row + values.shape[0] <= rows
    ds.GetRasterBand(1).WriteArray(values, int(col), int(row))
    ds = None
    assert path.stat().st_size < 2_000_000, f"{path} is not sparse"
    return path


def write_target(path, x0, y0, res, n, epsg):
    """The grid reclaim composites on: n x n pixels of `res` m from (x0, y0)."""
    ds = gdal.GetDriverByName("GTiff").Create(str(path), n, n, 1, gdal.GDT_Byte)
    ds.SetGeoTransform((x0, res, 0.0, y0, 0.0, -res))
    ds.SetSpatialRef(srs_of(epsg))
    ds = None
    return path


class Window:
    """The filled window (map coordinates, a margin of `margin` fine pixels around the target)."""

    def __init__(self, x0, y0, res, n, margin):
        self.res, self.n, self.margin = res, n, margin
        self.fill_x0, self.fill_y0 = x0 - margin * res, y0 + margin * res
        self.x0, self.y0 = x0, y0
        self.fill_n = n + 2 * margin

    def inner(self, a):
        """The target pixels of a fine-grid array of the filled window."""
        m = self.margin
        return a[..., m:m + self.n, m:m + self.n]


def s2_scene_dns(rng, n, greenness, scl_n):
    """Six bands at 10 m over n x n (the 20 m bands: a constant per scene, so resampling them onto
    10 m leaves the value), nodata and saturated specks, and an SCL plane at 20 m."""
    veg = rng.random((n, n)) < greenness
    ranges = {"blue": ((150, 600), (800, 1600)), "green": ((400, 900), (1000, 1900)),
              "red": ((200, 600), (1400, 2400)), "nir": ((2500, 4500), (1800, 2900))}
    fine = {}
    for b, ((a0, a1), (b0, b1)) in ranges.items():
        v = np.where(veg, rng.integers(a0, a1, (n, n)), rng.integers(b0, b1, (n, n))).astype(np.uint16)
        v[rng.random((n, n)) < 0.01] = 0          # nodata
        v[rng.random((n, n)) < 0.003] = 65535     # saturated
        fine[b] = v
    coarse = {"swir16": int(rng.integers(1500, 3500)), "swir22": int(rng.integers(800, 2500))}
    scl = rng.choice([4, 5, 6, 7, 11, 2, 3, 8, 9, 10], size=(scl_n, scl_n),
                     p=[0.35, 0.2, 0.05, 0.05, 0.03, 0.02, 0.075, 0.075, 0.075, 0.075]).astype(np.uint8)
    return fine, coarse, scl


def write_s2_item(item, folder, window, rng, greenness, common=S2_COMMON, mask_keys=("scl", "SCL")):
    """Rewrites the hrefs of the item's six band assets and SCL to files written here; returns
    the observation in float64 reflectance on the fine grid of the filled window (NaN: not
    clear) per the item's catalogue convention, and the DNs."""
    keys, mask_key = band_asset_keys(item, common, mask_keys)
    n = window.fill_n
    fine, coarse, scl = s2_scene_dns(rng, n, greenness, n // 2)
    dns = {}
    for cn, key in zip(common, keys):
        shape, gt, epsg = asset_grid(item, key)
        res = gt[1]
        if cn in fine:
            assert res == window.res, (item["id"], key, res)
            values = fine[cn]
        else:
            assert res == 2 * window.res, (item["id"], key, res)
            values = np.full((n // 2, n // 2), coarse[cn], np.uint16)
        path = folder / f"{item['id']}_{key}.tif"
        write_sparse(path, shape, gt, epsg, gdal.GDT_UInt16, values, window.fill_x0, window.fill_y0)
        item["assets"][key]["href"] = str(path)
        dns[cn] = values if cn in fine else np.full((n, n), coarse[cn], np.uint16)
    shape, gt, epsg = asset_grid(item, mask_key)
    assert gt[1] == 2 * window.res
    path = folder / f"{item['id']}_{mask_key}.tif"
    write_sparse(path, shape, gt, epsg, gdal.GDT_Byte, scl, window.fill_x0, window.fill_y0)
    item["assets"][mask_key]["href"] = str(path)
    scl10 = np.repeat(np.repeat(scl, 2, axis=0), 2, axis=1)   # a 10 m pixel lies in one 20 m pixel
    return dns, scl10


def reflectance(dns, mask_ok, conv, names):
    """(6, h, w) float64 reflectance, rounded to float32 as reclaim keeps an observation, NaN where
    any band is nodata (0) or saturated (65535) or the mask drops the pixel."""
    stack = np.stack([dns[b].astype(np.float64) for b in names])
    valid = np.all((stack != 0) & (stack != 65535), axis=0) & mask_ok
    r = (stack + conv["dn"]) * conv["scale"] + conv["offset"]
    r = r.astype(np.float32).astype(np.float64)
    r[:, ~valid] = np.nan
    return r


def read(path):
    ds = gdal.Open(str(path))
    return ds.GetRasterBand(1).ReadAsArray().astype(np.float64)


def assert_float32_close(actual, expected, name, steps=1):
    exp32 = expected.astype(np.float32).astype(np.float64)
    assert np.array_equal(np.isnan(actual), np.isnan(exp32)), \
        f"{name}: NaN pattern differs ({np.count_nonzero(np.isnan(actual) != np.isnan(exp32))} px)"
    both = np.isfinite(exp32)
    step = np.spacing(np.abs(exp32[both]).astype(np.float32)).astype(np.float64)
    diff = np.abs(actual[both] - exp32[both])
    assert (diff <= steps * step).all(), \
        f"{name}: {np.count_nonzero(diff > steps * step)} px off, max diff {diff.max():.3g}"


def nanmedian(stack):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(stack, axis=0)


def ndvi(obs):
    red, nir = obs[..., 2, :, :], obs[..., 3, :, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        return (nir - red) / (nir + red)


def check_composite(out, label, obs, ndvi_p50=True):
    """obs: (days, 6, h, w) float64 reflectance of the target pixels."""
    count = read(out / f"{label}_clear_count.tif")
    want_count = np.sum(np.isfinite(obs[:, 0]), axis=0)
    assert np.array_equal(count, want_count), \
        f"clear_count differs on {np.count_nonzero(count != want_count)} px"
    for b, name in enumerate(OUT_BANDS):
        assert_float32_close(read(out / f"{label}_{name}.tif"), nanmedian(obs[:, b]), f"median {name}")
    if ndvi_p50:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            want = np.nanpercentile(ndvi(obs), 50, axis=0, method="linear")
        assert_float32_close(read(out / f"{label}_ndvi_p50.tif"), want, "NDVI p50", steps=2)
    return count


def save(doc, path):
    path.write_text(json.dumps(doc))
    return path


def composite(reclaim_bin, label, inventory, out, target, *extra):
    return run_reclaim(reclaim_bin, "composite", "--input", f"{label}={inventory}", "--out", out,
                       "--target-grid", target, "--percentiles", "50", *extra)


def metadata(out, label):
    return gdal.Info(str(out / f"{label}_red.tif"), format="json")["metadata"][""]


# ---------------------------------------------------------------------------------------------
# Earth Search v1: two MGRS tiles of one pass (39QTA, 39QUA, 2023-06-28) and 39QTA on 2023-06-23


def test_earth_search_v1_two_tiles_two_dates(reclaim_bin, tmp_path):
    doc, items = load_items("earth-search-v1-39QTA-items.json")
    doc = copy.deepcopy(doc)
    items = doc["features"]
    ids = [i["id"] for i in items]
    assert ids == ["S2A_39QTA_20230628_0_L2A", "S2A_39QUA_20230628_0_L2A", "S2B_39QTA_20230623_0_L2A"]
    for it in items:
        assert it["properties"]["earthsearch:boa_offset_applied"] is True
        assert it["assets"]["red"]["raster:bands"][0]["offset"] == -0.1  # left in the metadata, not applied
    # A window near the upper-right corner of 39QTA = the upper-left of 39QUA (the tiles overlap
    # from x 300000 to 309780).
    win = Window(x0=308800.0, y0=2099800.0, res=10.0, n=64, margin=16)
    rng = np.random.default_rng(1101)
    obs = {}
    shared = None
    for it in items:
        dns, scl = write_s2_item(it, tmp_path, win, rng, greenness=0.5)
        if shared is None:
            shared = dns
        if it["id"] == "S2A_39QUA_20230628_0_L2A":
            # One pass, one set of values: the overlap of two tiles of one datatake holds the same
            # DNs (rewrite 39QUA's files with 39QTA's DNs; only the SCL differs).
            for cn, key in zip(S2_COMMON, band_asset_keys(it, S2_COMMON, ("scl",))[0]):
                shape, gt, epsg = asset_grid(it, key)
                v = shared[cn] if gt[1] == 10 else shared[cn][::2, ::2]
                write_sparse(Path(it["assets"][key]["href"]), shape, gt, epsg, gdal.GDT_UInt16, v,
                             win.fill_x0, win.fill_y0)
            dns = shared
        obs[it["id"]] = win.inner(reflectance(dns, ~np.isin(scl, SCL_MASKED), S2_CONVENTION, S2_COMMON))
    inv = save(doc, tmp_path / "es1.json")
    target = write_target(tmp_path / "target.tif", win.x0, win.y0, 10.0, 64, 32639)
    out = tmp_path / "out"
    composite(reclaim_bin, "2023", inv, out, target)
    # 2023-06-28: 39QTA where it is clear, else 39QUA (the same DNs): one observation.
    a, b = obs["S2A_39QTA_20230628_0_L2A"], obs["S2A_39QUA_20230628_0_L2A"]
    day28 = np.where(np.isfinite(a[0])[None], a, b)
    stack = np.stack([obs["S2B_39QTA_20230623_0_L2A"], day28])
    count = check_composite(out, "2023", stack)
    assert (count == 2).any() and (count == 1).any() and (count == 0).any()
    assert (np.isfinite(b[0]) & ~np.isfinite(a[0])).any(), "39QUA never fills a masked 39QTA pixel"
    # Not DN x 1e-4 - 0.1: the median red of the window is a plain reflectance.
    red = read(out / "2023_red.tif")
    assert np.nanmin(red) > 0.01
    assert "3 of 3 scenes" in metadata(out, "2023")["RECLAIM_COMPOSITE"]


# ---------------------------------------------------------------------------------------------
# Planetary Computer: 35MNM (baseline 02.12), four items, and the season filtered by window and cloud

PC_NAME = "site2-2020_jun_jul-35MNM.geojson"
PC_WINDOW = Window(x0=500140.0, y0=9199860.0, res=10.0, n=64, margin=16)  # near the upper-left corner


def pc_baseline_dn_offset(item):
    """Planetary Computer serves ESA's DNs: BOA_ADD_OFFSET -1000 from baseline 04.00."""
    major, minor = (int(x) for x in item["properties"]["s2:processing_baseline"].split("."))
    return -1000.0 if (major, minor) >= (4, 0) else 0.0


def write_pc_items(items, folder, seed):
    rng = np.random.default_rng(seed)
    obs = {}
    for k, it in enumerate(items):
        assert it["properties"]["proj:epsg"] == 32735
        dns, scl = write_s2_item(it, folder, PC_WINDOW, rng, greenness=0.3 + 0.05 * k)
        conv = dict(S2_CONVENTION, dn=pc_baseline_dn_offset(it))
        obs[it["id"]] = PC_WINDOW.inner(reflectance(dns, ~np.isin(scl, SCL_MASKED), conv, S2_COMMON))
    return obs


def test_planetary_computer_four_items(reclaim_bin, tmp_path):
    doc, _ = load_items(PC_NAME)
    doc = copy.deepcopy(doc)
    doc["features"] = doc["features"][:4]   # 07-31, 07-26, 07-21, 07-16: one tile, four dates
    items = doc["features"]
    assert all(it["properties"]["s2:processing_baseline"] == "02.12" for it in items)
    obs = write_pc_items(items, tmp_path, 3501)
    inv = save(doc, tmp_path / "pc4.geojson")
    target = write_target(tmp_path / "target.tif", PC_WINDOW.x0, PC_WINDOW.y0, 10.0, 64, 32735)
    out = tmp_path / "out"
    composite(reclaim_bin, "2020", inv, out, target)
    # Chronological (items are listed newest first): the median does not depend on the order.
    stack = np.stack([obs[it["id"]] for it in items])
    count = check_composite(out, "2020", stack)
    assert (count == 4).any() and (count == 3).any() and ((count % 2) == 0).any()
    md = metadata(out, "2020")
    assert "4 of 4 scenes" in md["RECLAIM_COMPOSITE"]


@pytest.fixture(scope="module")
def pc_season(reclaim_bin, tmp_path_factory):
    """The 13 items of 35MNM, June-July 2020, composited with --window 2020-06-10/2020-07-20 and
    --max-cloud 5: kept are the scenes whose UTC date is in the window and whose eo:cloud_cover
    is at most 5 %. Only the kept items' hrefs are rewritten: a dropped item's assets still
    point at Azure, which this machine cannot reach, so reading one would fail."""
    tmp_path = tmp_path_factory.mktemp("pc_season")
    doc, _ = load_items(PC_NAME)
    doc = copy.deepcopy(doc)
    items = doc["features"]
    assert len(items) == 13
    start, end, max_cloud = "2020-06-10", "2020-07-20", 5.0
    kept, dropped = [], []
    for it in items:
        assert it["properties"]["datetime"].endswith("Z")
        day = it["properties"]["datetime"][:10]  # the UTC date
        ok = start <= day <= end and it["properties"]["eo:cloud_cover"] <= max_cloud
        (kept if ok else dropped).append(it)
    assert [it["id"][11:19] for it in kept] == ["20200716", "20200706", "20200621", "20200616", "20200611"]
    # Dropped: 07-11 (26.8 %), 07-01 (29.2 %), 06-26 (5.86 %) by cloud; 07-31, 07-26, 07-21,
    # 06-06, 06-01 by date.
    assert len(dropped) == 8
    obs = write_pc_items(kept, tmp_path, 3502)
    inv = save(doc, tmp_path / "season.geojson")
    target = write_target(tmp_path / "target.tif", PC_WINDOW.x0, PC_WINDOW.y0, 10.0, 64, 32735)
    out = tmp_path / "out"
    proc = run_reclaim(reclaim_bin, "composite", "--input", f"2020={inv}", "--out", out, "--target-grid", target,
                       "--percentiles", "50", "--window", f"{start}/{end}", "--max-cloud", "5")
    return {"proc": proc, "out": out, "kept": kept, "dropped": dropped, "inv": inv, "target": target,
            "stack": np.stack([obs[it["id"]] for it in kept])}


def test_planetary_computer_season_window_and_max_cloud(pc_season):
    count = check_composite(pc_season["out"], "2020", pc_season["stack"])
    assert (count == 5).any() and (count == 2).any()
    md = metadata(pc_season["out"], "2020")
    assert "5 of 13 scenes" in md["RECLAIM_COMPOSITE"], md["RECLAIM_COMPOSITE"]
    assert "2020-06-10/2020-07-20" in md["RECLAIM_COMPOSITE"] and "cloud cover <= 5 %" in md["RECLAIM_COMPOSITE"]
    assert "median of 5 scenes on 5 days (2020-06-11 .. 2020-07-16)" in pc_season["proc"].stderr


def test_planetary_computer_season_names_the_dropped_scenes(pc_season):
    """Each scene --window/--max-cloud left out is named in the log (a scenes_left_out event)."""
    log = pc_season["proc"].stderr
    missing = [it["id"] for it in pc_season["dropped"] if it["id"] not in log]
    assert not missing, f"{len(missing)} of 8 left-out scenes not named:\n{log}"


def test_planetary_computer_season_fractional_max_cloud_in_metadata(reclaim_bin, pc_season, tmp_path):
    # 1.5 % keeps the same five scenes (07-16 0.007 %, 07-06 0.70 %, 06-21 1.04 %, 06-16 0.02 %,
    # 06-11 1.21 %), so the files written for them serve.
    clouds = sorted(it["properties"]["eo:cloud_cover"] for it in pc_season["kept"])
    assert clouds[-1] <= 1.5 and clouds[-1] > 1.0
    out = tmp_path / "out"
    run_reclaim(reclaim_bin, "composite", "--input", f"2020={pc_season['inv']}", "--out", out,
                "--target-grid", pc_season["target"], "--window", "2020-06-10/2020-07-20", "--max-cloud", "1.5")
    count = read(out / "2020_clear_count.tif")
    assert np.array_equal(count, np.sum(np.isfinite(pc_season["stack"][:, 0]), axis=0))
    assert "cloud cover <= 1.5 %" in metadata(out, "2020")["RECLAIM_COMPOSITE"]


def test_planetary_computer_raster_extension_item(reclaim_bin, tmp_path):
    """The T06VVN item (raster:bands nodata 0, no scale; baseline 02.12), alone."""
    doc, _ = load_items("S2B_MSIL2A_20190629T212529_R043_T06VVN_20201006T080531_raster_ext.json")
    doc = copy.deepcopy(doc)
    assert doc["type"] == "Feature"
    assert doc["assets"]["B04"]["raster:bands"] == [{"nodata": 0, "data_type": "uint16"}]
    win = Window(x0=400120.0, y0=6799880.0, res=10.0, n=64, margin=16)
    rng = np.random.default_rng(601)
    dns, scl = write_s2_item(doc, tmp_path, win, rng, greenness=0.6)
    conv = dict(S2_CONVENTION, dn=pc_baseline_dn_offset(doc))
    assert conv["dn"] == 0.0
    obs = win.inner(reflectance(dns, ~np.isin(scl, SCL_MASKED), conv, S2_COMMON))
    inv = save(doc, tmp_path / "item.json")
    target = write_target(tmp_path / "target.tif", win.x0, win.y0, 10.0, 64, 32606)
    out = tmp_path / "out"
    composite(reclaim_bin, "2019", inv, out, target)
    count = check_composite(out, "2019", obs[None])
    assert (count == 1).any() and (count == 0).any()


# ---------------------------------------------------------------------------------------------
# Earth Search v0: no eo:bands on the assets (the keys B02..B12, SCL), a 9-element proj:transform


def test_earth_search_v0_item(reclaim_bin, tmp_path):
    doc, _ = load_items("S2A_28QCH_20200714_0_L2A.json")
    doc = copy.deepcopy(doc)
    assert doc["collection"] == "sentinel-s2-l2a-cogs"
    assert len(doc["assets"]["B04"]["proj:transform"]) == 9
    pid = doc["properties"]["sentinel:product_id"]
    baseline = re.search(r"_N(\d\d)(\d\d)_", pid).groups()
    assert baseline == ("02", "14")            # before 04.00: no BOA offset in the DNs
    win = Window(x0=300160.0, y0=2299880.0, res=10.0, n=64, margin=16)
    rng = np.random.default_rng(2807)
    dns, scl = write_s2_item(doc, tmp_path, win, rng, greenness=0.4, mask_keys=("SCL",))
    obs = win.inner(reflectance(dns, ~np.isin(scl, SCL_MASKED), S2_CONVENTION, S2_COMMON))
    inv = save(doc, tmp_path / "item.json")
    target = write_target(tmp_path / "target.tif", win.x0, win.y0, 10.0, 64, 32628)
    out = tmp_path / "out"
    composite(reclaim_bin, "2020", inv, out, target)
    count = check_composite(out, "2020", obs[None])
    assert (count == 1).any() and (count == 0).any()


# ---------------------------------------------------------------------------------------------
# USGS Landsat Collection 2 Level-2: 30 m, scale 2.75e-5 offset -0.2, QA_PIXEL bits


def qa_pixel_values(rng, shape):
    """Realistic QA_PIXEL words: clear land 21824 (0x5540) and water 21952 (bit 7: kept), snow
    (bit 5: kept), and words with each of bits 0-4 (fill, dilated cloud, cirrus, cloud, shadow)."""
    base = rng.choice([21824, 21952, 21824 | 0x20], size=shape, p=[0.7, 0.2, 0.1]).astype(np.uint16)
    flag = rng.choice([0, 0x1, 0x2, 0x4, 0x8, 0x10, 0x8 | 0x2, 0x300], size=shape,
                      p=[0.6, 0.04, 0.06, 0.06, 0.08, 0.06, 0.05, 0.05]).astype(np.uint16)
    return base | flag


@pytest.mark.parametrize("name, epsg, col, row", [
    ("LC08_L2SP_028030_20200114_20200824_02_T1_SR.json", 32615, 7931 - 200, 150),   # near the upper right
    ("LE07_L2SP_044033_20210329_20210424_02_T1_SR.json", 32610, 150, 7131 - 200),   # near the lower left
])
def test_landsat_c2_l2(reclaim_bin, tmp_path, name, epsg, col, row):
    doc, _ = load_items(name)
    doc = copy.deepcopy(doc)
    assert doc["collection"] == "landsat-c2l2-sr"
    keys, qa_key = band_asset_keys(doc, LS_COMMON, ("qa_pixel",))
    assert keys == LS_COMMON
    shape, gt, got_epsg = asset_grid(doc, "red")
    assert got_epsg == epsg and gt[1] == 30.0
    n, margin = 32, 8
    x0 = gt[0] + (col + margin) * gt[1]
    y0 = gt[3] + (row + margin) * gt[5]
    win = Window(x0=x0, y0=y0, res=30.0, n=n, margin=margin)
    rng = np.random.default_rng(807 if "LC08" in name else 707)
    fn = win.fill_n
    veg = rng.random((fn, fn)) < 0.5
    ranges = {"blue": ((7600, 8600), (9000, 11000)), "green": ((8000, 9500), (9500, 12000)),
              "red": ((7600, 9000), (10500, 14000)), "nir08": ((16000, 24000), (12000, 16000)),
              "swir16": ((11000, 15000), (15000, 20000)), "swir22": ((8500, 11000), (13000, 17000))}
    dns = {}
    for cn, ((a0, a1), (b0, b1)) in ranges.items():
        v = np.where(veg, rng.integers(a0, a1, (fn, fn)), rng.integers(b0, b1, (fn, fn))).astype(np.uint16)
        v[rng.random((fn, fn)) < 0.01] = 0
        v[rng.random((fn, fn)) < 0.003] = 65535
        dns[cn] = v
    qa = qa_pixel_values(rng, (fn, fn))
    # Fill pixels carry no value (DN 0), except on even rows, where the QA fill bit alone must mask.
    fill = ((qa & 0x1) != 0) & (np.arange(fn)[:, None] % 2 == 1)
    for v in dns.values():
        v[fill] = 0
    for cn, key in zip(LS_COMMON, keys):
        path = tmp_path / f"{doc['id']}_{key}.tif"
        write_sparse(path, shape, gt, epsg, gdal.GDT_UInt16, dns[cn], win.fill_x0, win.fill_y0)
        doc["assets"][key]["href"] = str(path)
    qshape, qgt, qepsg = asset_grid(doc, qa_key)
    path = tmp_path / f"{doc['id']}_qa_pixel.tif"
    write_sparse(path, qshape, qgt, qepsg, gdal.GDT_UInt16, qa, win.fill_x0, win.fill_y0)
    doc["assets"][qa_key]["href"] = str(path)
    obs = win.inner(reflectance(dns, (qa & QA_MASK) == 0, LANDSAT_CONVENTION, LS_COMMON))
    inv = save(doc, tmp_path / "item.json")
    target = write_target(tmp_path / "target.tif", win.x0, win.y0, 30.0, n, epsg)
    out = tmp_path / "out"
    composite(reclaim_bin, "ls", inv, out, target)
    count = check_composite(out, "ls", obs[None])
    assert (count == 1).any() and (count == 0).any()
    # Each QA bit 0-4 masks; water (bit 7), snow (bit 5) and bits 8-9 alone do not.
    inner_qa = win.inner(qa)
    all_valid = win.inner(np.all([(v != 0) & (v != 65535) for v in dns.values()], axis=0))
    for bit in range(5):
        sel = ((inner_qa >> bit) & 1).astype(bool) & all_valid
        assert sel.any() and (count[sel] == 0).all(), f"QA bit {bit} did not mask"
    for kept in (0x80, 0x20, 0x300):
        sel = ((inner_qa & kept) == kept) & ((inner_qa & QA_MASK) == 0) & all_valid
        assert sel.any() and (count[sel] == 1).all(), f"QA bits {kept:#x} masked a pixel"
    red = read(out / "ls_red.tif")
    assert 0.0 < np.nanmin(red) and np.nanmax(red) < 0.25   # 2.75e-5 x DN - 0.2, not DN x 1e-4
