"""The streaming scheduler through real GDAL files: identical output whatever the threads
and budget, odd sizes, a 1x1 raster, and memory that does not grow with the raster
(a virtual mosaic built with gdalbuildvrt)."""
import os
import subprocess

import numpy as np
import pytest
from osgeo import gdal

from conftest import run_reclaim, s2_like_planes, utm49_srs, write_raster
from reference import S2_MASKED_SCL, apply_mask, assert_close, indices, s2_reflectance

GT = (600000.0, 10.0, 0.0, 4300000.0, 0.0, -10.0)
ROLES = ["blue", "green", "red", "nir", "swir1", "swir2"]


def ndvi_of(path):
    ds = gdal.Open(str(path))
    return ds.GetRasterBand(1).ReadAsArray()


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    rng = np.random.default_rng(21)
    bands, scl = s2_like_planes(rng, 1024, 1024)
    path = write_raster(tmp_path_factory.mktemp("sched") / "scene.tif", bands + [scl], GT, utm49_srs())
    return path, bands, scl


def test_threads_and_budget_do_not_change_output(reclaim_bin, scene, tmp_path):
    path, _, _ = scene
    run_reclaim(reclaim_bin, "indices", "--input", path, "--index", "ndvi,evi", "--out", tmp_path / "one",
                "--readers", "1", "--threads", "1", "--memory-budget", "1G", "--quiet")
    run_reclaim(reclaim_bin, "indices", "--input", path, "--index", "ndvi,evi", "--out", tmp_path / "many",
                "--readers", "4", "--threads", "3", "--memory-budget", "300K", "--quiet")
    for name in ("ndvi", "evi"):
        a, b = ndvi_of(tmp_path / "one" / f"{name}.tif"), ndvi_of(tmp_path / "many" / f"{name}.tif")
        assert np.array_equal(a, b, equal_nan=True), name


@pytest.mark.parametrize("h,w,block", [(1, 1, None), (3, 517, None), (300, 301, 16)])
def test_odd_sizes(reclaim_bin, tmp_path, h, w, block):
    rng = np.random.default_rng(h * w)
    bands, scl = s2_like_planes(rng, h, w) if w > 8 and h > 1 else ([rng.integers(100, 4000, (h, w)).astype(np.uint16)
                                                          for _ in range(6)], np.full((h, w), 4, np.uint16))
    path = write_raster(tmp_path / "odd.tif", bands + [scl], GT, utm49_srs(), block=block)
    run_reclaim(reclaim_bin, "indices", "--input", path, "--index", "ndvi", "--out", tmp_path / "o",
                "--memory-budget", "64K", "--quiet")
    expected = apply_mask(indices({r: s2_reflectance(b) for r, b in zip(ROLES, bands)}),
                          np.isin(scl, S2_MASKED_SCL))["ndvi"]
    assert_close(ndvi_of(tmp_path / "o" / "ndvi.tif"), expected, "ndvi")


def build_mosaic(scene_path, copies, folder):
    """copies x copies shifted copies of the scene, mosaicked with gdalbuildvrt."""
    src = gdal.Open(str(scene_path))
    w, h = src.RasterXSize, src.RasterYSize
    parts = []
    for i in range(copies):
        for j in range(copies):
            x0, y0 = GT[0] + j * w * GT[1], GT[3] + i * h * GT[5]
            part = folder / f"part_{i}_{j}.vrt"
            gdal.Translate(str(part), src, format="VRT", outputBounds=[x0, y0, x0 + w * GT[1], y0 + h * GT[5]])
            parts.append(str(part))
    mosaic = folder / f"mosaic_{copies}.vrt"
    gdal.BuildVRT(str(mosaic), parts)
    return mosaic


def peak_rss_mb(cmd):
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, proc.stderr.read().decode()
    return usage.ru_maxrss / 1024.0


@pytest.mark.skipif(os.environ.get("RECLAIM_SANITIZER") == "asan",
                    reason="under ASan the peak RSS measures its shadow memory and quarantine, not reclaim")
def test_memory_does_not_grow_with_the_mosaic(reclaim_bin, scene, tmp_path):
    path, bands, scl = scene
    rss = {}
    for copies in (1, 6):
        mosaic = build_mosaic(path, copies, tmp_path)
        out = tmp_path / f"out{copies}"
        rss[copies] = peak_rss_mb([reclaim_bin, "indices", "--input", str(mosaic), "--index", "ndvi", "--out",
                                   str(out), "--memory-budget", "64M", "--quiet"])
    # 36x the pixels; the working set is the budget, not the raster.
    assert rss[6] - rss[1] < 48, f"peak RSS grew from {rss[1]:.0f} MB to {rss[6]:.0f} MB"
    assert rss[6] < 64 + 160, f"peak RSS {rss[6]:.0f} MB for a 64 MB budget"
    big = ndvi_of(tmp_path / "out6" / "ndvi.tif")
    assert big.shape == (6 * 1024, 6 * 1024)
    expected = apply_mask(indices({r: s2_reflectance(b) for r, b in zip(ROLES, bands)}),
                          np.isin(scl, S2_MASKED_SCL))["ndvi"]
    for i, j in ((0, 0), (2, 5), (5, 3)):
        assert_close(big[i * 1024:(i + 1) * 1024, j * 1024:(j + 1) * 1024], expected, f"copy {i},{j}")


def test_tight_budget_falls_back_to_the_scratch_writer(reclaim_bin, scene, tmp_path):
    """When two tile rows per output do not fit the budget, outputs go through a scratch file:
    same pixels, and no scratch file left behind."""
    path, _, _ = scene
    log = run_reclaim(reclaim_bin, "indices", "--input", path, "--index", "ndvi,ndmi,bsi", "--out", tmp_path / "s",
                      "--memory-budget", "1M", "--log-format", "json").stderr
    assert '"kind":"scratch"' in log
    run_reclaim(reclaim_bin, "indices", "--input", path, "--index", "ndvi,ndmi,bsi", "--out", tmp_path / "t",
                "--quiet")
    for name in ("ndvi", "ndmi", "bsi"):
        assert np.array_equal(ndvi_of(tmp_path / "s" / f"{name}.tif"), ndvi_of(tmp_path / "t" / f"{name}.tif"),
                              equal_nan=True), name
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == ["bsi.tif", "ndmi.tif", "ndvi.tif"]
