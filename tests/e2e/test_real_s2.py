"""Real Sentinel-2 imagery (Chongqing, T48RXT, per-band files at 10 m and 20 m, geographic
CRS): NDVI, NDMI and BSI against an independent float64 numpy/GDAL computation, with the
20 m bands upsampled by the same bilinear convention in the reference."""
import os
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal

from conftest import run_reclaim
from reference import assert_close, bilinear_upsample, indices, s2_reflectance

REAL = Path(os.environ.get("RECLAIM_REAL_DATA", Path(__file__).resolve().parents[3] / "shared/data/real"))
CHONGQING = REAL / "s2-chongqing"

pytestmark = pytest.mark.skipif(not CHONGQING.is_dir(),
                                reason=f"real data not present at {CHONGQING} (only in the team's shared/ folder)")


def band_file(folder, name):
    (path,) = folder.glob(f"*_{name}.tif")
    return path


def load(path):
    ds = gdal.Open(str(path))
    return ds, ds.GetRasterBand(1).ReadAsArray()


@pytest.mark.parametrize("epoch", ["imgs_1", "imgs_2"])
def test_chongqing_indices_match_numpy(reclaim_bin, tmp_path, epoch):
    folder = CHONGQING / epoch
    run_reclaim(reclaim_bin, "indices", "--input", folder, "--sensor", "sentinel2-l2a", "--index", "ndvi,ndmi,bsi",
                "--out", tmp_path, "--memory-budget", "4M", "--quiet")
    ref_ds, red = load(band_file(folder, "B04"))
    h, w = red.shape
    refl = {"red": s2_reflectance(red)}
    for role, name in (("blue", "B02"), ("nir", "B08")):
        refl[role] = s2_reflectance(load(band_file(folder, name))[1])
    _, swir1_dn = load(band_file(folder, "B11"))
    assert swir1_dn.shape == (h // 2, w // 2)
    coarse = np.where(swir1_dn == 0, np.nan, swir1_dn.astype(np.float64))
    refl["swir1"] = bilinear_upsample(coarse, 2, (h, w)) / 10000.0
    for role in ("green", "swir2"):
        refl[role] = np.full((h, w), np.nan)
    expected = indices(refl)
    for name in ("ndvi", "ndmi", "bsi"):
        ds, actual = load(tmp_path / f"{name}.tif")
        assert ds.GetGeoTransform() == ref_ds.GetGeoTransform()
        assert ds.GetSpatialRef().IsGeographic()
        assert_close(actual, expected[name], f"{epoch} {name}")
        assert np.isfinite(actual).mean() > 0.99  # real pixels, not an all-NaN pass
