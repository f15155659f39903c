"""reclaim trend end to end: NDVI of 7 generated epochs (with nodata, clouds and ties) ->
Theil-Sen slope against scipy.stats.theilslopes, Mann-Kendall against the textbook formula in
float64, valid-epoch counts and the year of recovery, all from files read back with GDAL."""
import math
import os
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal
from scipy import stats

from conftest import run_reclaim, utm49_srs, write_raster

GT = (600000.0, 10.0, 0.0, 4300000.0, 0.0, -10.0)
YEARS = [2019, 2020, 2021, 2022, 2023, 2024, 2025]
H, W = 30, 41


def mann_kendall(x, y):
    """S, Z (continuity-corrected, tie-corrected variance), two-sided p (textbook: Kendall 1975)."""
    n = len(y)
    s = sum(np.sign(y[j] - y[i]) for i in range(n) for j in range(i + 1, n))
    _, counts = np.unique(y, return_counts=True)
    var = (n * (n - 1) * (2 * n + 5) - sum(t * (t - 1) * (2 * t + 5) for t in counts)) / 18.0
    z = 0.0 if s == 0 else (s - np.sign(s)) / math.sqrt(var)
    return s, z, math.erfc(abs(z) / math.sqrt(2))


def recovery_year(x, y, threshold=0.3):
    if y[-1] < threshold:
        return np.nan
    k = len(y) - 1
    while k > 0 and y[k - 1] >= threshold:
        k -= 1
    return float(x[k])


@pytest.fixture(scope="module")
def series(tmp_path_factory):
    """7 epochs of red/NIR (+ a class mask): trends up, down and flat, nodata and cloud holes,
    values on a coarse DN grid so that ties occur."""
    rng = np.random.default_rng(17)
    folder = tmp_path_factory.mktemp("trend")
    base = rng.uniform(0.05, 0.6, (H, W))
    rate = rng.choice([-0.05, 0.0, 0.04, 0.08], size=(H, W))
    paths, ndvi = [], []
    for k, year in enumerate(YEARS):
        target = np.clip(base + rate * k + rng.normal(0, 0.03, (H, W)), -0.2, 0.9)
        red = np.full((H, W), 1000, np.uint16)
        nir = np.round(1000 * (1 + target) / (1 - target) / 50).astype(np.uint16) * 50  # coarse: ties
        nir[nir == 0] = 50
        red[rng.random((H, W)) < 0.08] = 0                       # nodata
        mask = np.where(rng.random((H, W)) < 0.08, 9, 4).astype(np.uint8)  # cloud
        red[:, :2] = 0 if k % 2 else red[:, :2]                  # two columns valid in 4 epochs only
        p = write_raster(folder / f"e{year}.tif", [red, nir, mask.astype(np.uint16)], GT, utm49_srs(), block=None)
        paths.append(p)
        r = red.astype(np.float64) * 1e-4
        n = nir.astype(np.float64) * 1e-4
        v = (n - r) / (n + r)
        v[(red == 0) | (mask == 9)] = np.nan
        ndvi.append(v)
    return paths, np.stack(ndvi)


def test_trend_products_match_scipy(series, reclaim_bin, tmp_path):
    paths, ndvi = series
    args = ["trend", "--sensor", "generic", "--bands", "red=1,nir=2", "--scale", "1e-4", "--nodata", "0",
            "--mask-band", "3", "--mask-values", "9", "--index", "ndvi", "--out", tmp_path, "--memory-budget", "1M",
            "--quiet"]
    for year, p in zip(YEARS, paths):
        args += ["--epoch", f"{year}={p}"]
    run_reclaim(reclaim_bin, *args)
    out = {name: gdal.Open(str(tmp_path / f"trend_{name}.tif")).ReadAsArray().astype(np.float64)
           for name in ("slope", "mk_s", "mk_z", "mk_p", "n_valid", "recovery_year")}
    checked = 0
    for i in range(H):
        for j in range(W):
            y = ndvi[:, i, j]
            ok = ~np.isnan(y)
            x = np.array(YEARS, float)[ok]
            v = y[ok].astype(np.float32).astype(np.float64)  # the index as the pass sees it (float32 plane)
            assert out["n_valid"][i, j] == ok.sum()
            if ok.sum() < 4:
                assert all(np.isnan(out[k][i, j]) for k in ("slope", "mk_s", "mk_p", "recovery_year"))
                continue
            slope = stats.theilslopes(v, x)[0]
            s, z, pv = mann_kendall(x, v)
            assert abs(out["slope"][i, j] - slope) <= 1e-6, (i, j, out["slope"][i, j], slope)
            assert out["mk_s"][i, j] == s
            assert abs(out["mk_z"][i, j] - z) <= 1e-6
            assert abs(out["mk_p"][i, j] - pv) <= 1e-6
            ry = recovery_year(x, v)
            assert (np.isnan(ry) and np.isnan(out["recovery_year"][i, j])) or out["recovery_year"][i, j] == ry
            checked += 1
    assert checked > 0.7 * H * W
    ds = gdal.Open(str(tmp_path / "trend_slope.tif"))
    assert ds.GetMetadataItem("LAYOUT", "IMAGE_STRUCTURE") == "COG" and ds.GetGeoTransform() == GT


def test_too_few_epochs_is_a_usage_error(series, reclaim_bin, tmp_path):
    paths, _ = series
    proc = run_reclaim(reclaim_bin, "trend", "--epoch", f"2019={paths[0]}", "--epoch", f"2020={paths[1]}",
                       "--sensor", "generic", "--scale", "1e-4", "--bands", "red=1,nir=2", "--out", tmp_path,
                       check=False)
    assert proc.returncode == 2 and "min-epochs" in proc.stderr


REAL = Path(os.environ.get("RECLAIM_REAL_DATA", Path(__file__).resolve().parents[3] / "shared/data/real"))
CBERS = REAL / "cbers-series"


@pytest.mark.skipif(not CBERS.is_dir(), reason=f"real data not present at {CBERS}")
def test_cbers_series_ndvi_trend(reclaim_bin, tmp_path):
    """Real CBERS-4 AWFI series (14 dates in 2018, per-band files, CMASK cloud mask): NDVI
    trend per day-of-year against scipy, for every pixel."""
    dates = sorted({p.stem.split("_")[-1] for p in CBERS.glob("*_B15_*.tif")})
    args = ["trend", "--sensor", "generic", "--scale", "1e-4", "--nodata", "-9999", "--index", "ndvi", "--out",
            tmp_path, "--mask-values", "255", "--quiet"]
    ndvi, years = [], []
    for d in dates:
        red, nir = CBERS / f"CBERS-4_AWFI_022024_B15_{d}.tif", CBERS / f"CBERS-4_AWFI_022024_B16_{d}.tif"
        mask = CBERS / f"CBERS-4_AWFI_022024_CMASK_{d}.tif"
        if not mask.exists():
            continue
        year = 2018 + (np.datetime64(d) - np.datetime64("2018-01-01")).astype(int) / 365.0
        # one folder per date with the band files named by role
        folder = tmp_path / d
        folder.mkdir()
        years.append(year)
        r = gdal.Open(str(red)).ReadAsArray().astype(np.float64)
        n = gdal.Open(str(nir)).ReadAsArray().astype(np.float64)
        m = gdal.Open(str(mask)).ReadAsArray()
        v = (n * 1e-4 - r * 1e-4) / (n * 1e-4 + r * 1e-4)
        v[(r == -9999) | (n == -9999) | (m == 255)] = np.nan
        ndvi.append(v)
        vrt = folder / "scene.vrt"
        gdal.BuildVRT(str(vrt), [str(red), str(nir), str(mask)], separate=True)
        args += ["--epoch", f"{year!r}={vrt}"]
    args += ["--bands", "red=1,nir=2", "--mask-band", "3"]
    run_reclaim(reclaim_bin, *args)
    slope = gdal.Open(str(tmp_path / "trend_slope.tif")).ReadAsArray()
    ndvi = np.stack(ndvi)
    compared = 0
    for i in range(ndvi.shape[1]):
        for j in range(ndvi.shape[2]):
            y = ndvi[:, i, j]
            ok = ~np.isnan(y)
            if ok.sum() < 4:
                assert np.isnan(slope[i, j])
                continue
            ref = stats.theilslopes(y[ok].astype(np.float32).astype(np.float64), np.array(years)[ok])[0]
            assert abs(slope[i, j] - ref) <= 1e-6 * max(1, abs(ref))
            compared += 1
    assert compared > 1000
