"""reclaim trend from index rasters (one-band NDVI files, --index-input or reclaim's own
RECLAIM_INDEX metadata), beyond the old 64-epoch limit (105 epochs on the CPU), and from an
--epochs-from list. Expected products in float64 numpy: the median of all pair slopes, the
textbook Mann-Kendall S, the count of valid epochs."""
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal

from conftest import run_reclaim, utm49_srs, write_raster

GT = (600000.0, 10.0, 0.0, 4300000.0, 0.0, -10.0)
H, W = 6, 7
NODATA = -9999.0


def theil_sen(x, y):
    i, j = np.triu_indices(len(x), 1)
    dx = x[j] - x[i]
    keep = dx != 0
    return float(np.median((y[j] - y[i])[keep] / dx[keep]))


def mk_s(y):
    i, j = np.triu_indices(len(y), 1)
    return float(np.sign(y[j] - y[i]).sum())


def ndvi_series(folder, years, seed):
    """One-band Float32 NDVI rasters (nodata -9999 in ~10% of the pixels), like a user's COGs."""
    rng = np.random.default_rng(seed)
    rate = rng.uniform(-0.01, 0.02, (H, W))
    paths, values = [], []
    for k, year in enumerate(years):
        v = np.clip(0.2 + rate * k + rng.normal(0, 0.05, (H, W)), -1, 1).astype(np.float32)
        v[rng.random((H, W)) < 0.1] = NODATA
        paths.append(write_raster(folder / f"{year}.tif", [v], GT, utm49_srs(), dtype=gdal.GDT_Float32,
                                  nodata=NODATA, block=None))
        values.append(v.astype(np.float64))
    stack = np.stack(values)
    stack[stack == NODATA] = np.nan
    return paths, stack


def check_products(out, years, stack):
    x = np.asarray(years, np.float64)
    ds = {k: gdal.Open(str(out / f"trend_{k}.tif")).ReadAsArray().astype(np.float64)
          for k in ("slope", "mk_s", "n_valid")}
    checked = 0
    for i in range(H):
        for j in range(W):
            ok = ~np.isnan(stack[:, i, j])
            assert ds["n_valid"][i, j] == ok.sum()
            if ok.sum() < 4:  # --min-epochs
                assert np.isnan(ds["slope"][i, j]) and np.isnan(ds["mk_s"][i, j])
                continue
            slope = theil_sen(x[ok], stack[ok, i, j])
            assert abs(ds["slope"][i, j] - slope) <= 1e-6 * max(1.0, abs(slope)), (i, j)
            assert ds["mk_s"][i, j] == mk_s(stack[ok, i, j])
            checked += 1
    assert checked > 0.8 * H * W
    return ds


def test_index_rasters_with_index_input(reclaim_bin, tmp_path):
    years = list(range(2015, 2025))
    paths, stack = ndvi_series(tmp_path, years, 3)
    args = ["trend", "--index-input", "ndvi", "--out", tmp_path / "out", "--quiet"]
    for y, p in zip(years, paths):
        args += ["--epoch", f"{y}={p}"]
    run_reclaim(reclaim_bin, *args)
    check_products(tmp_path / "out", years, stack)
    assert gdal.Open(str(tmp_path / "out/trend_slope.tif")).GetMetadataItem("RECLAIM_INDEX") == "ndvi"


def test_reclaims_own_index_cogs_are_recognised(reclaim_bin, tmp_path):
    """NDVI COGs written by `reclaim indices` carry RECLAIM_INDEX: no option needed."""
    years = list(range(2016, 2022))
    paths, stack = ndvi_series(tmp_path, years, 4)
    for p in paths:
        ds = gdal.Open(str(p), gdal.GA_Update)
        ds.SetMetadataItem("RECLAIM_INDEX", "ndvi")
        ds = None
    args = ["trend", "--out", tmp_path / "out", "--quiet"]
    for y, p in zip(years, paths):
        args += ["--epoch", f"{y}={p}"]
    run_reclaim(reclaim_bin, *args)
    check_products(tmp_path / "out", years, stack)
    # Asking for another index's trend from NDVI rasters is refused, naming the file.
    proc = run_reclaim(reclaim_bin, *args[:1], "--index", "evi", *args[1:3], "--overwrite", *args[4:], check=False)
    assert proc.returncode == 3 and "holds ndvi" in proc.stderr and str(paths[0]) in proc.stderr, proc.stderr


def test_one_band_raster_without_metadata_gets_a_hint(reclaim_bin, tmp_path):
    years = [2019, 2020, 2021, 2022]
    paths, _ = ndvi_series(tmp_path, years, 5)
    args = ["trend", "--out", tmp_path / "out", "--quiet"]
    for y, p in zip(years, paths):
        args += ["--epoch", f"{y}={p}"]
    proc = run_reclaim(reclaim_bin, *args, check=False)
    assert proc.returncode == 3 and "--index-input" in proc.stderr, proc.stderr
    assert not (tmp_path / "out").exists()


def test_105_epochs_from_a_list_on_the_cpu(reclaim_bin, tmp_path):
    """105 epochs (past the old limit of 64), given by an --epochs-from list with comments,
    a YEAR PATH line, relative paths and paths named by their year."""
    years = [2000 + 0.25 * k for k in range(105)]
    data = tmp_path / "data"
    data.mkdir()
    paths, stack = ndvi_series(data, years, 6)
    lines = ["# NDVI series, quarterly", ""]
    for k, (y, p) in enumerate(zip(years, paths)):
        rel = Path("data") / p.name
        lines.append(f"{y} {rel}  # quarter {k}" if k % 2 else str(rel))  # odd: year column; even: stem
    (tmp_path / "list.txt").write_text("\n".join(lines) + "\n")
    run_reclaim(reclaim_bin, "trend", "--device", "cpu", "--index-input", "ndvi", "--epochs-from",
                tmp_path / "list.txt", "--out", tmp_path / "out", "--quiet", cwd="/")
    ds = check_products(tmp_path / "out", years, stack)
    assert ds["n_valid"].max() > 64
    assert gdal.Open(str(tmp_path / "out/trend_slope.tif")).GetMetadataItem("RECLAIM_EPOCHS") == "105"


def test_epoch_list_errors(reclaim_bin, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("2019 a.tif\nscene.tif\n")
    proc = run_reclaim(reclaim_bin, "trend", "--epochs-from", bad, "--out", tmp_path / "out", check=False)
    assert proc.returncode == 3 and f"{bad}:2" in proc.stderr and "has no year" in proc.stderr, proc.stderr
    proc = run_reclaim(reclaim_bin, "trend", "--epochs-from", tmp_path / "missing.txt", "--out", tmp_path / "out",
                       check=False)
    assert proc.returncode == 3 and "missing.txt" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_more_than_the_maximum_is_a_clear_usage_error(reclaim_bin, tmp_path):
    lines = [f"{1000 + k} x{k}.tif" for k in range(1025)]
    (tmp_path / "l.txt").write_text("\n".join(lines))
    proc = run_reclaim(reclaim_bin, "trend", "--epochs-from", tmp_path / "l.txt", "--out", tmp_path / "o", check=False)
    assert proc.returncode == 2 and "at most 1024" in proc.stderr, proc.stderr
