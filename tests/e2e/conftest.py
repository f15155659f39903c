"""Shared fixtures: the reclaim binary, and scenes written with GDAL-Python (not by reclaim)."""
import os
import subprocess

import numpy as np
import pytest
from osgeo import gdal, osr

gdal.UseExceptions()

S2_BANDS = ["B02", "B03", "B04", "B08", "B11", "B12"]


@pytest.fixture(scope="session")
def reclaim_bin():
    path = os.environ.get("RECLAIM_BIN")
    if not path or not os.path.exists(path):
        pytest.fail("RECLAIM_BIN must point at the built reclaim executable")
    return path


def run_reclaim(binary, *args, check=True, cwd=None):
    """Runs reclaim (in `cwd` when given); returns the CompletedProcess (text mode)."""
    proc = subprocess.run([binary, *map(str, args)], capture_output=True, text=True, cwd=cwd)
    if check and proc.returncode != 0:
        raise AssertionError(f"reclaim {' '.join(map(str, args))} exited {proc.returncode}:\n{proc.stderr}")
    return proc


def utm49_srs():
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32649)
    return srs


def write_raster(path, planes, gt, srs, dtype=gdal.GDT_UInt16, nodata=None, block=256, descriptions=None,
                 interleave="BAND"):
    """Writes planes (list of 2-D arrays) as a tiled DEFLATE GeoTIFF."""
    h, w = planes[0].shape
    opts = ["COMPRESS=DEFLATE", f"INTERLEAVE={interleave}"]
    if block:
        opts += ["TILED=YES", f"BLOCKXSIZE={block}", f"BLOCKYSIZE={block}"]
    ds = gdal.GetDriverByName("GTiff").Create(str(path), w, h, len(planes), dtype, opts)
    ds.SetGeoTransform(gt)
    ds.SetSpatialRef(srs)
    for i, plane in enumerate(planes):
        band = ds.GetRasterBand(i + 1)
        band.WriteArray(plane)
        if nodata is not None:
            band.SetNoDataValue(nodata)
        if descriptions:
            band.SetDescription(descriptions[i])
    ds = None
    return path


def s2_like_planes(rng, h, w):
    """Realistic Sentinel-2 L2A DNs with nodata (0), saturated (65535) and SCL classes."""
    veg = rng.random((h, w)) < 0.5
    blue = np.where(veg, rng.integers(150, 600, (h, w)), rng.integers(800, 1600, (h, w)))
    green = np.where(veg, rng.integers(400, 900, (h, w)), rng.integers(1000, 1900, (h, w)))
    red = np.where(veg, rng.integers(200, 600, (h, w)), rng.integers(1400, 2400, (h, w)))
    nir = np.where(veg, rng.integers(2500, 4500, (h, w)), rng.integers(1800, 2900, (h, w)))
    swir1 = np.where(veg, rng.integers(1200, 2200, (h, w)), rng.integers(2600, 3800, (h, w)))
    swir2 = np.where(veg, rng.integers(600, 1200, (h, w)), rng.integers(2000, 3200, (h, w)))
    bands = [b.astype(np.uint16) for b in (blue, green, red, nir, swir1, swir2)]
    for b in bands:
        b[rng.random((h, w)) < 0.01] = 0          # scattered nodata
        b[rng.random((h, w)) < 0.002] = 65535     # saturated
    for b in bands:
        b[:, :7] = 0                              # a nodata swath edge
    if h > 5 and w > 9:
        red[5, 9] = 1000; nir[5, 9] = 1000        # a zero NDVI
    scl = rng.choice([4, 5, 6, 3, 8, 9, 10, 7, 11], size=(h, w),
                     p=[0.4, 0.3, 0.05, 0.05, 0.05, 0.05, 0.04, 0.03, 0.03]).astype(np.uint16)
    return bands, scl
