"""reclaim indices end to end: every index against the float64 numpy reference, nodata and
masks, georeferencing and COG layout read back with GDAL."""
import json

import numpy as np
import pytest
from osgeo import gdal, osr

from conftest import S2_BANDS, run_reclaim, s2_like_planes, utm49_srs, write_raster
from reference import S2_MASKED_SCL, apply_mask, assert_close, bilinear_upsample, indices, s2_reflectance

ALL = ["ndvi", "evi", "savi", "msavi2", "ndwi", "mndwi", "nbr", "ndmi", "bsi", "fvc"]
ROLES = ["blue", "green", "red", "nir", "swir1", "swir2"]
GT = (600000.0, 10.0, 0.0, 4300000.0, 0.0, -10.0)


def read(path):
    ds = gdal.Open(str(path))
    return ds, ds.GetRasterBand(1).ReadAsArray()


@pytest.fixture(scope="module")
def s2_scene(tmp_path_factory):
    """A 7-band Sentinel-2-like file whose size is no multiple of its 256 blocks."""
    rng = np.random.default_rng(7)
    h, w = 777, 1000
    bands, scl = s2_like_planes(rng, h, w)
    path = tmp_path_factory.mktemp("s2") / "scene.tif"
    write_raster(path, bands + [scl], GT, utm49_srs(), nodata=None, descriptions=S2_BANDS + ["SCL"])
    return path, bands, scl


def test_every_index_matches_float64_reference(s2_scene, reclaim_bin, tmp_path):
    path, bands, scl = s2_scene
    out = tmp_path / "out"
    proc = run_reclaim(reclaim_bin, "indices", "--input", path, "--sensor", "sentinel2-l2a", "--index", "all",
                       "--out", out, "--device", "cpu", "--memory-budget", "2M", "--readers", "3", "--quiet")
    listed = proc.stdout.split()
    assert sorted(listed) == sorted(str(out / f"{i}.tif") for i in ALL)
    refl = {role: s2_reflectance(b) for role, b in zip(ROLES, bands)}
    masked = np.isin(scl, S2_MASKED_SCL)
    expected = apply_mask(indices(refl), masked)
    for name in ALL:
        _, actual = read(out / f"{name}.tif")
        assert actual.dtype == np.float32
        assert_close(actual, expected[name], name)
    # the scene exercises every special case
    assert masked.sum() > 1000 and (bands[0] == 0).sum() > 1000 and (bands[0] == 65535).sum() > 100


def test_georeferencing_nodata_and_cog_layout(s2_scene, reclaim_bin, tmp_path):
    path, _, _ = s2_scene
    run_reclaim(reclaim_bin, "indices", "--input", path, "--index", "ndvi,bsi", "--out", tmp_path, "--quiet")
    src = gdal.Open(str(path))
    for name in ("ndvi", "bsi"):
        ds, _ = read(tmp_path / f"{name}.tif")
        assert (ds.RasterXSize, ds.RasterYSize) == (src.RasterXSize, src.RasterYSize)
        assert ds.GetGeoTransform() == src.GetGeoTransform()
        assert ds.GetSpatialRef().IsSame(src.GetSpatialRef())
        band = ds.GetRasterBand(1)
        assert np.isnan(band.GetNoDataValue())
        assert band.GetDescription().startswith(name.upper())
        assert ds.GetMetadataItem("LAYOUT", "IMAGE_STRUCTURE") == "COG"
        assert ds.GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE") == "DEFLATE"
        assert ds.GetMetadataItem("RECLAIM_INDEX") == name
        info = gdal.Info(ds, format="json")
        assert info["bands"][0]["block"] == [512, 512]
    assert not list(tmp_path.glob(".*")), "scratch or temporary files left behind"


def test_zstd_and_overviews(s2_scene, reclaim_bin, tmp_path):
    path, _, _ = s2_scene
    run_reclaim(reclaim_bin, "indices", "--input", path, "--index", "ndvi", "--out", tmp_path, "--compress", "zstd",
                "--overviews", "--quiet")
    ds, _ = read(tmp_path / "ndvi.tif")
    assert ds.GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE") == "ZSTD"
    assert ds.GetRasterBand(1).GetOverviewCount() >= 1


def test_labelled_epochs_and_boa_offset(s2_scene, reclaim_bin, tmp_path):
    path, bands, scl = s2_scene
    run_reclaim(reclaim_bin, "indices", "--input", f"2019={path}", "--input", f"2025={path}", "--index", "ndvi",
                "--boa-offset", "-1000", "--out", tmp_path, "--quiet")
    refl = {role: s2_reflectance(b, -1000.0) for role, b in zip(ROLES, bands)}
    expected = apply_mask(indices(refl), np.isin(scl, S2_MASKED_SCL))["ndvi"]
    for label in ("2019", "2025"):
        _, actual = read(tmp_path / f"{label}_ndvi.tif")
        assert_close(actual, expected, f"{label}_ndvi")


def test_landsat_band_folder(reclaim_bin, tmp_path):
    """Landsat C2 L2 as delivered: one file per band, QA_PIXEL bits masked."""
    rng = np.random.default_rng(11)
    h, w = 300, 410
    folder = tmp_path / "LC09_L2SP_127032_20250704_20250705_02_T1"
    folder.mkdir()
    dns = [rng.integers(7273, 30000, (h, w)).astype(np.uint16) for _ in range(6)]
    dns[0][:3, :] = 0
    qa = rng.choice([21824, 21824, 21824, 1, 22280, 23826, 24088, 5896, 21952], size=(h, w)).astype(np.uint16)
    stem = folder.name
    for name, dn in zip(["SR_B2", "SR_B3", "SR_B4", "SR_B5", "SR_B6", "SR_B7"], dns):
        write_raster(folder / f"{stem}_{name}.TIF", [dn], GT, utm49_srs(), nodata=0, block=128)
    write_raster(folder / f"{stem}_QA_PIXEL.TIF", [qa], GT, utm49_srs(), nodata=1, block=128)
    run_reclaim(reclaim_bin, "indices", "--input", folder, "--sensor", "landsat-c2l2", "--index", "ndvi,nbr,evi",
                "--out", tmp_path / "out", "--quiet")
    refl = {}
    for role, dn in zip(ROLES, dns):
        r = dn.astype(np.float64) * 0.0000275 - 0.2
        refl[role] = np.where((dn == 0) | (dn >= 65535), np.nan, r)
    masked = (qa & 0b11111) != 0
    expected = apply_mask(indices(refl), masked)
    for name in ("ndvi", "nbr", "evi"):
        _, actual = read(tmp_path / "out" / f"{name}.tif")
        assert_close(actual, expected[name], name)
    assert masked.mean() > 0.2


def test_generic_band_map(reclaim_bin, tmp_path):
    """Any multiband raster: --sensor generic with band numbers, scale, offset, nodata and a class mask."""
    rng = np.random.default_rng(3)
    h, w = 200, 260
    planes = [rng.integers(1, 255, (h, w)).astype(np.uint8) for _ in range(4)]
    planes[3][:, :5] = 0
    mask = rng.integers(0, 4, (h, w)).astype(np.uint8)
    path = write_raster(tmp_path / "cbers_like.tif", planes + [mask], GT, utm49_srs(), dtype=gdal.GDT_Byte,
                        block=None)
    run_reclaim(reclaim_bin, "indices", "--input", path, "--sensor", "generic", "--bands",
                "blue=1,green=2,red=3,nir=4", "--scale", "0.004", "--offset", "-0.01", "--nodata", "0",
                "--mask-band", "5", "--mask-values", "2,3", "--index", "ndvi,ndwi,evi", "--out", tmp_path / "o",
                "--quiet")
    refl = {role: np.where(p == 0, np.nan, p.astype(np.float64) * 0.004 - 0.01)
            for role, p in zip(["blue", "green", "red", "nir"], planes)}
    expected = apply_mask(indices(refl_with_missing(refl)), np.isin(mask, (2, 3)))
    for name in ("ndvi", "ndwi", "evi"):
        _, actual = read(tmp_path / "o" / f"{name}.tif")
        assert_close(actual, expected[name], name)


def refl_with_missing(refl):
    full = dict(refl)
    shape = next(iter(refl.values())).shape
    for role in ROLES:
        full.setdefault(role, np.full(shape, np.nan))
    return full


def test_mixed_resolution_band_files_are_resampled(reclaim_bin, tmp_path):
    """10 m and 20 m band files (as Sentinel-2 delivers them): the 20 m SWIR is upsampled
    bilinearly onto the 10 m grid; SCL at 20 m by nearest neighbour."""
    rng = np.random.default_rng(5)
    h, w = 402, 330
    fine = {role: rng.integers(200, 5000, (h, w)).astype(np.uint16) for role in ("blue", "red", "nir")}
    swir1 = rng.integers(500, 4000, (h // 2, w // 2)).astype(np.uint16)
    swir1[10, 10] = 0  # nodata in a coarse band spreads to the fine pixels that blend it
    scl = rng.choice([4, 5, 9], size=(h // 2, w // 2)).astype(np.uint8)
    gt20 = (GT[0], 20.0, 0.0, GT[3], 0.0, -20.0)
    names = {"blue": "B02", "red": "B04", "nir": "B08"}
    for role, dn in fine.items():
        write_raster(tmp_path / f"T49_{names[role]}_10m.tif", [dn], GT, utm49_srs(), nodata=0, block=128)
    write_raster(tmp_path / "T49_B11_20m.tif", [swir1], gt20, utm49_srs(), nodata=0, block=64)
    write_raster(tmp_path / "T49_SCL_20m.tif", [scl], gt20, utm49_srs(), dtype=gdal.GDT_Byte, block=64)
    run_reclaim(reclaim_bin, "indices", "--input", tmp_path, "--index", "bsi,ndmi,ndvi", "--out", tmp_path / "o",
                "--memory-budget", "1M", "--quiet")
    refl = {role: s2_reflectance(dn) for role, dn in fine.items()}
    coarse = np.where(swir1 == 0, np.nan, swir1.astype(np.float64))
    refl["swir1"] = s2_reflectance_from_float(bilinear_upsample(coarse, 2, (h, w)))
    scl_fine = np.repeat(np.repeat(scl, 2, axis=0), 2, axis=1)[:h, :w]
    expected = apply_mask(indices(refl_with_missing(refl)), np.isin(scl_fine, S2_MASKED_SCL))
    for name in ("bsi", "ndmi", "ndvi"):
        ds, actual = read(tmp_path / "o" / f"{name}.tif")
        assert ds.GetGeoTransform() == GT
        assert_close(actual, expected[name], name)


def s2_reflectance_from_float(dn):
    return np.where(np.isnan(dn) | (dn >= 65535), np.nan, dn / 10000.0)


def test_json_log_events(s2_scene, reclaim_bin, tmp_path):
    path, _, _ = s2_scene
    proc = run_reclaim(reclaim_bin, "indices", "--input", path, "--index", "ndvi", "--out", tmp_path,
                       "--log-format", "json")
    events = [json.loads(line) for line in proc.stderr.splitlines()]
    names = [e["event"] for e in events]
    assert names[0] == "start" and names[-1] == "done"
    assert "plan" in names and "output" in names and "progress" in names
    assert events[-1]["outputs"] == 1
    # the default budget streams tiles straight into the COG encoders
    assert [e["kind"] for e in events if e["event"] == "sink"] == ["streaming"]


def test_band_files_given_one_by_one(reclaim_bin, tmp_path):
    """--bands role=FILE with no --input (files named freely), the quality band as a file."""
    rng = np.random.default_rng(9)
    h, w = 130, 170
    red, nir = (rng.integers(100, 6000, (h, w)).astype(np.uint16) for _ in range(2))
    qa = rng.choice([4, 9], size=(h, w)).astype(np.uint8)
    write_raster(tmp_path / "r.tif", [red], GT, utm49_srs(), block=None)
    write_raster(tmp_path / "n.tif", [nir], GT, utm49_srs(), block=None)
    write_raster(tmp_path / "q.tif", [qa], GT, utm49_srs(), dtype=gdal.GDT_Byte, block=None)
    run_reclaim(reclaim_bin, "indices", "--bands", f"red={tmp_path / 'r.tif'},nir={tmp_path / 'n.tif'}",
                "--mask-band", tmp_path / "q.tif", "--index", "ndvi,savi", "--out", tmp_path / "o", "--quiet")
    refl = refl_with_missing({"red": s2_reflectance(red), "nir": s2_reflectance(nir)})
    expected = apply_mask(indices(refl), qa == 9)
    for name in ("ndvi", "savi"):
        _, actual = read(tmp_path / "o" / f"{name}.tif")
        assert_close(actual, expected[name], name)
