"""Unusual and bad raster inputs, each written here with GDAL/numpy: one error line naming the file
and the problem, the documented exit code and nothing left behind; or, for real-valued types,
the right values (checked against numpy in float64)."""
import time

import numpy as np
import pytest
from osgeo import gdal, ogr

from conftest import run_reclaim, utm49_srs

EXIT_INPUT = 3
GT = (600000.0, 10.0, 0.0, 4300000.0, 0.0, -10.0)
GENERIC = ["--sensor", "generic", "--scale", "1e-4", "--bands", "red=1,nir=2"]


def write(path, planes, dtype, srs=True, options=(), nodata=None):
    h, w = planes[0].shape
    ds = gdal.GetDriverByName("GTiff").Create(str(path), w, h, len(planes), dtype, list(options))
    ds.SetGeoTransform(GT)
    if srs:
        ds.SetSpatialRef(utm49_srs())
    for i, p in enumerate(planes):
        band = ds.GetRasterBand(i + 1)
        if p.dtype == np.int8:
            band.WriteRaster(0, 0, w, h, p.tobytes())
        else:
            band.WriteArray(p)
        if nodata is not None:
            band.SetNoDataValue(nodata)
    ds = None
    return path


@pytest.fixture(scope="module")
def zones(tmp_path_factory):
    """One square over pixels [0, 40) x [0, 40)."""
    path = tmp_path_factory.mktemp("zones") / "z.gpkg"
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = ds.CreateLayer("z", utm49_srs(), ogr.wkbPolygon)
    f = ogr.Feature(layer.GetLayerDefn())
    f.SetGeometry(ogr.CreateGeometryFromWkt(
        "POLYGON((600000 4300000,600400 4300000,600400 4299600,600000 4299600,600000 4300000))"))
    layer.CreateFeature(f)
    ds = None
    return path


def values(rng, dtype=np.float64):
    return rng.integers(1, 3000, (40, 40)).astype(dtype)


def refused(reclaim_bin, tmp_path, zones, path, *words):
    """indices and zonal both refuse `path`: one line naming it, exit 3, no output left."""
    for args in (["indices", "--input", path, *GENERIC, "--out", tmp_path / "o"],
                 ["zonal", "--raster", path, "--zones", zones, "--out", tmp_path / "o" / "z.csv"]):
        proc = run_reclaim(reclaim_bin, *args, "--quiet", check=False)
        lines = [l for l in proc.stderr.splitlines() if l.strip()]
        assert proc.returncode == EXIT_INPUT and len(lines) == 1, proc.stderr
        assert lines[0].startswith(f"reclaim: error: {path}") and all(w in lines[0] for w in words), lines[0]
        assert not (tmp_path / "o").exists()


def test_empty_file_and_folder_are_named_as_such(reclaim_bin, tmp_path, zones):
    empty = tmp_path / "empty.tif"
    empty.write_bytes(b"")
    refused(reclaim_bin, tmp_path, zones, empty, "is empty (0 bytes)")
    folder = tmp_path / "folder.tif"
    folder.mkdir()
    proc = run_reclaim(reclaim_bin, "zonal", "--raster", folder, "--zones", tmp_path / "none.gpkg",
                       "--out", tmp_path / "z.csv", "--quiet", check=False)
    assert proc.returncode == EXIT_INPUT and f"{folder}: is a folder, not a raster file" in proc.stderr, proc.stderr


def test_garbage_bytes(reclaim_bin, tmp_path, zones):
    bad = tmp_path / "garbage.tif"
    bad.write_bytes(np.random.default_rng(0).integers(0, 256, 5000).astype(np.uint8).tobytes())
    refused(reclaim_bin, tmp_path, zones, bad, "not a readable raster")


@pytest.mark.parametrize("dtype", [gdal.GDT_CInt16, gdal.GDT_CFloat32])
def test_complex_data_is_refused(reclaim_bin, tmp_path, zones, dtype):
    """GDAL reads a complex band as its real part alone: refused rather than used silently."""
    path = write(tmp_path / "complex.tif", [values(np.random.default_rng(1))] * 2, dtype)
    refused(reclaim_bin, tmp_path, zones, path, "band 1", "complex data", gdal.GetDataTypeName(dtype))


def zonal_stats(reclaim_bin, tmp_path, raster, zones, stats="count,mean,min,max"):
    out = tmp_path / f"{raster.stem}.csv"
    proc = run_reclaim(reclaim_bin, "zonal", "--raster", raster, "--zones", zones, "--stats", stats, "--out", out)
    header, row = out.read_text().splitlines()[:2]
    return dict(zip(header.split(","), row.split(","))), proc.stderr


@pytest.mark.parametrize("kind", ["int8", "uint32", "float64"])
def test_real_types_are_read_with_their_values(reclaim_bin, tmp_path, zones, kind):
    rng = np.random.default_rng(2)
    if kind == "int8":  # GDAL 3.6 stores Int8 as Byte + PIXELTYPE=SIGNEDBYTE, and reads it as 0..255
        v = (values(rng) % 200 - 100).astype(np.int8)
        path = write(tmp_path / "i8.tif", [v, v], gdal.GDT_Byte, options=["PIXELTYPE=SIGNEDBYTE"])
    elif kind == "uint32":
        v = values(rng, np.uint32) + 3_000_000  # beyond 16 bits, exact in Float32 (below 2^24)
        path = write(tmp_path / "u32.tif", [v, v], gdal.GDT_UInt32)
    else:
        v = values(rng) / 7.0
        path = write(tmp_path / "f64.tif", [v, v], gdal.GDT_Float64)
    got, _ = zonal_stats(reclaim_bin, tmp_path, path, zones)
    name = path.stem
    ref = v.astype(np.float64)
    assert int(got[f"{name}_count"]) == ref.size
    assert float(got[f"{name}_min"]) == pytest.approx(ref.min(), rel=1e-7)
    assert float(got[f"{name}_max"]) == pytest.approx(ref.max(), rel=1e-7)
    assert float(got[f"{name}_mean"]) == pytest.approx(ref.mean(), rel=1e-7)


def test_nan_and_infinities_are_nodata(reclaim_bin, tmp_path, zones):
    """NaN and +-inf in a Float32 input are nodata: not in the zonal statistics (numpy nanmean over
    the finite values), and NaN, not a number, in the indices (EVI's denominator made an infinite
    blue band a finite 0 before)."""
    rng = np.random.default_rng(3)
    v = values(rng, np.float32)
    v[0, 0], v[1, 1], v[2, 2], v[3, 5] = np.nan, np.inf, -np.inf, np.inf
    path = write(tmp_path / "naninf.tif", [v], gdal.GDT_Float32)
    got, _ = zonal_stats(reclaim_bin, tmp_path, path, zones, "count,nodata_count,mean,max")
    finite = np.where(np.isfinite(v), v.astype(np.float64), np.nan)
    assert int(got["naninf_count"]) == np.isfinite(v).sum() and int(got["naninf_nodata_count"]) == 4
    assert float(got["naninf_mean"]) == pytest.approx(np.nanmean(finite), rel=1e-12)
    assert float(got["naninf_max"]) == np.nanmax(finite)

    red, nir, blue = (values(rng, np.float32) for _ in range(3))
    blue[4, 4] = np.inf
    red[6, 6] = -np.inf
    scene = write(tmp_path / "s.tif", [red, nir, blue], gdal.GDT_Float32)
    run_reclaim(reclaim_bin, "indices", "--input", scene, "--sensor", "generic", "--scale", "1e-4",
                "--bands", "red=1,nir=2,blue=3", "--index", "evi,ndvi", "--out", tmp_path / "o", "--quiet")
    evi = gdal.Open(str(tmp_path / "o" / "evi.tif")).ReadAsArray()
    ndvi = gdal.Open(str(tmp_path / "o" / "ndvi.tif")).ReadAsArray()
    assert np.isnan(evi[4, 4]) and np.isnan(evi[6, 6]) and np.isnan(ndvi[6, 6])
    assert np.isfinite(ndvi[4, 4]) and np.isfinite(evi[5, 5])


def test_all_nodata_warns_and_writes_nodata(reclaim_bin, tmp_path, zones):
    """Exit 0 with one warning naming the file; the products are nodata (NaN, count 0)."""
    path = write(tmp_path / "allnd.tif", [np.zeros((40, 40), np.uint16)] * 2, gdal.GDT_UInt16, nodata=0)
    proc = run_reclaim(reclaim_bin, "indices", "--input", path, *GENERIC, "--out", tmp_path / "o")
    warnings = [l for l in proc.stderr.splitlines() if "warning" in l]
    assert len(warnings) == 1 and f"{path}: no valid pixel" in warnings[0], proc.stderr
    assert np.isnan(gdal.Open(str(tmp_path / "o" / "ndvi.tif")).ReadAsArray()).all()
    got, err = zonal_stats(reclaim_bin, tmp_path, path, zones)
    assert "no valid pixel" in err and got["allnd_count"] == "0" and got["allnd_mean"] == ""


def test_no_crs_warns(reclaim_bin, tmp_path, zones):
    """Indices of a raster without a CRS: written, with a warning; zones with a CRS are refused."""
    path = write(tmp_path / "nocrs.tif", [values(np.random.default_rng(4))] * 2, gdal.GDT_UInt16, srs=False)
    proc = run_reclaim(reclaim_bin, "indices", "--input", path, *GENERIC, "--out", tmp_path / "o")
    assert f"{path}: has no CRS" in proc.stderr, proc.stderr
    proc = run_reclaim(reclaim_bin, "zonal", "--raster", path, "--zones", zones, "--out", tmp_path / "z.csv",
                       "--quiet", check=False)
    assert proc.returncode == EXIT_INPUT and "the raster has none" in proc.stderr, proc.stderr


def test_rotated_geotransform_is_refused(reclaim_bin, tmp_path, zones):
    path = tmp_path / "rot.tif"
    write(path, [values(np.random.default_rng(5))] * 2, gdal.GDT_UInt16)
    ds = gdal.Open(str(path), gdal.GA_Update)
    ds.SetGeoTransform((600000.0, 10.0, 1.0, 4300000.0, 1.0, -10.0))
    ds = None
    refused(reclaim_bin, tmp_path, zones, path, "rotated geotransforms are not supported")


def test_huge_declared_size_is_refused_quickly(reclaim_bin, tmp_path, zones):
    """A 46 KB header declaring 10^6 x 10^6 px in 16384 px blocks: refused by a size check before
    any buffer is allocated (zonal used to allocate GiBs of tile buffers and read for seconds)."""
    path = tmp_path / "huge.tif"
    ds = gdal.GetDriverByName("GTiff").Create(str(path), 10**6, 10**6, 2, gdal.GDT_UInt16,
                                              ["TILED=YES", "BLOCKXSIZE=16384", "BLOCKYSIZE=16384",
                                               "SPARSE_OK=TRUE", "BIGTIFF=YES"])
    ds.SetGeoTransform(GT)
    ds.SetSpatialRef(utm49_srs())
    ds = None
    for args in (["indices", "--input", path, *GENERIC, "--out", tmp_path / "o"],
                 ["zonal", "--raster", path, "--zones", zones, "--stats", "count", "--out", tmp_path / "z.csv"]):
        t0 = time.monotonic()
        proc = run_reclaim(reclaim_bin, *args, "--quiet", check=False)
        assert time.monotonic() - t0 < 2.0
        lines = proc.stderr.splitlines()
        assert proc.returncode == EXIT_INPUT and len(lines) == 1, proc.stderr
        assert lines[0].startswith(f"reclaim: error: {path}: blocks of 16384 x 16384 px"), lines[0]
        assert not (tmp_path / "o").exists() and not (tmp_path / "z.csv").exists()
