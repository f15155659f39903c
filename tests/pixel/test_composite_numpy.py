"""Composite rules of reclaim (through tests/pixel/composite_probe) against numpy, on random
observation stacks: values drawn in float64 and stored as float32 (what the C++ reads), clouds
(whole observations NaN), NaN or +-inf in one band only, quantised values (ties), duplicated
observations (ties in NDVI and in distance), red = nir = 0 (NDVI undefined), even and odd clear
counts and pixels with no clear observation.

References, on the float32 values promoted to float64:
  - median: np.nanmedian over the clear values, cast to float32;
  - NDVI percentiles: np.nanpercentile(ndvi of the clear observations, q, method="linear"),
    cast to float32;
  - max_ndvi: the clear observation with the largest NDVI, (nir - red) / (nir + red) in float64,
    NaN ranked lowest, the first of equals (np.argmax);
  - medoid: the clear observation with the least squared Euclidean distance to the per-band
    float64 medians, summed in band order, the first of equals (np.argmin);
  - clear_count: observations whose composited bands are all finite.

Tolerance: median and percentiles within 1 float32 ulp of the float64 value cast to float32
(the test also reports how many are exact); the selections (max_ndvi, medoid), clear_count
and where NaN is: exact.

Run: RECLAIM_COMPOSITE_PROBE=build/tests/composite_probe /usr/bin/python3 -m pytest tests/pixel/test_composite_numpy.py
"""

import os
import subprocess

import numpy as np
import pytest

PROBE = os.environ.get("RECLAIM_COMPOSITE_PROBE")
BANDS = 6  # kBandCount
RED, NIR = 2, 3
PERCENTILES = [0.0, 10.0, 25.0, 50.0, 90.0, 100.0, 33.3]

pytestmark = pytest.mark.skipif(not PROBE, reason="RECLAIM_COMPOSITE_PROBE is not set (run through ctest)")


def run_probe(stacks, method, bands, percentiles):
    """stacks: (pixels, n, BANDS) float32. Returns (pixels, planes) float32."""
    n = stacks.shape[1]
    lines = [" ".join([str(n)] + [repr(float(v)) for v in s.reshape(-1)]) for s in stacks]
    args = [PROBE, "--method", method, "--bands", ",".join(map(str, bands))]
    if percentiles:
        args += ["--percentiles", ",".join(repr(q) for q in percentiles)]
    done = subprocess.run(args, input="\n".join(lines) + "\n", capture_output=True, text=True, check=True)
    rows = [np.array(line.split(), dtype=np.float64).astype(np.float32) for line in done.stdout.splitlines()]
    assert len(rows) == len(stacks)
    return np.array(rows)


def random_stacks(rng, pixels, n):
    """(pixels, n, BANDS) float32 stacks with everything the rules must handle."""
    x = rng.uniform(0.0, 0.6, size=(pixels, n, BANDS))
    kind = rng.integers(0, 6, size=pixels)
    for i in range(pixels):
        if kind[i] == 1:  # quantised: ties in values, NDVI and distances
            x[i] = np.round(x[i] / 0.05) * 0.05
        elif kind[i] == 2 and n >= 2:  # duplicated observations (a later copy of an earlier one)
            for _ in range(max(1, n // 4)):
                a, b = sorted(rng.choice(n, size=2, replace=False))
                x[i, b] = x[i, a]
        elif kind[i] == 3:  # a few dark pixels with red = nir = 0 (NDVI undefined)
            o = rng.integers(0, n, size=max(1, n // 3))
            x[i, o, RED] = 0.0
            x[i, o, NIR] = 0.0
        elif kind[i] == 4:  # negative reflectances (Landsat's offset) and a wide range
            x[i] = rng.uniform(-0.2, 1.2, size=(n, BANDS))
    cloud = rng.random((pixels, n)) < rng.choice([0.0, 0.2, 0.5, 0.9], size=(pixels, 1))
    x[cloud] = np.nan
    one_band = rng.random((pixels, n, BANDS)) < 0.04  # NaN in one band only
    x[one_band] = np.nan
    inf = rng.random((pixels, n, BANDS)) < 0.005
    x[inf] = np.where(rng.random(inf.sum()) < 0.5, np.inf, -np.inf)
    x[rng.random(pixels) < 0.03] = np.nan  # no observation at all
    # By construction: pixel 0 has no observation, pixel 1 every one clear (count n), pixel 2
    # all but one (count n - 1, the other parity).
    x[0] = np.nan
    x[1] = rng.uniform(0.0, 0.6, size=(n, BANDS))
    x[2] = rng.uniform(0.0, 0.6, size=(n, BANDS))
    x[2, rng.integers(0, n)] = np.nan
    return x.astype(np.float32)


def reference(stacks, method, bands, percentiles):
    pixels, n, _ = stacks.shape
    planes = BANDS + 1 + len(percentiles)
    out = np.full((pixels, planes), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        for i in range(pixels):
            x = stacks[i].astype(np.float64)
            clear = np.all(np.isfinite(x[:, bands]), axis=1)
            c = x[clear]
            out[i, BANDS] = len(c)
            if len(c) == 0:
                continue
            med = {b: np.nanmedian(c[:, b]) for b in bands}
            if method == "median":
                for b in bands:
                    out[i, b] = med[b]
            elif method == "max_ndvi":
                s = c[:, NIR] + c[:, RED]
                ndvi = np.where(s == 0.0, np.nan, (c[:, NIR] - c[:, RED]) / np.where(s == 0.0, 1.0, s))
                o = int(np.argmax(np.where(np.isnan(ndvi), -np.inf, ndvi)))
                out[i, bands] = c[o, bands]
            else:
                d = np.zeros(len(c))
                for b in bands:  # in band order, as the C++ sums
                    d = d + (c[:, b] - med[b]) ** 2
                o = int(np.argmin(d))
                out[i, bands] = c[o, bands]
            if percentiles:
                s = c[:, NIR] + c[:, RED]
                ndvi = np.where(s == 0.0, np.nan, (c[:, NIR] - c[:, RED]) / np.where(s == 0.0, 1.0, s))
                if np.any(~np.isnan(ndvi)):
                    out[i, BANDS + 1:] = np.nanpercentile(ndvi, percentiles, method="linear")
    return out.astype(np.float32)


def ulp_distance(a, b):
    """|a - b| in float32 ulps (finite float32 arrays of the same shape)."""
    ia = a.view(np.int32).astype(np.int64)
    ib = b.view(np.int32).astype(np.int64)
    ia = np.where(ia < 0, -(ia & 0x7FFFFFFF), ia)  # order the sign-magnitude bits
    ib = np.where(ib < 0, -(ib & 0x7FFFFFFF), ib)
    return np.abs(ia - ib)


def compare(got, want, method, bands, exact_planes, label):
    assert got.shape == want.shape, label
    nan_got, nan_want = np.isnan(got), np.isnan(want)
    bad = np.argwhere(nan_got != nan_want)
    assert len(bad) == 0, f"{label}: NaN differs at (pixel, plane) {bad[:5].tolist()}"
    finite = ~nan_want
    for k in range(got.shape[1]):
        f = finite[:, k]
        if not f.any():
            continue
        g, w = got[f, k], want[f, k]
        if k in exact_planes:
            diff = np.flatnonzero(g != w)
            assert len(diff) == 0, f"{label}: plane {k} not exact at pixels {np.flatnonzero(f)[diff[:5]].tolist()}"
        else:
            u = ulp_distance(g, w)
            assert u.max() <= 1, f"{label}: plane {k} off by {u.max()} ulp"
    return int(finite.sum())


@pytest.mark.parametrize("method", ["median", "max_ndvi", "medoid"])
@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 20, 31, 64, 256])
def test_against_numpy(method, n):
    rng = np.random.default_rng(1000 * n + ["median", "max_ndvi", "medoid"].index(method))
    pixels = 600 if n <= 64 else 150
    bands = [0, 2, 3, 4] if n % 2 else [1, 2, 3, 5]
    stacks = random_stacks(rng, pixels, n)
    got = run_probe(stacks, method, bands, PERCENTILES)
    want = reference(stacks, method, bands, PERCENTILES)
    # Selections copy an observation: exact. Medians and percentiles: 1 ulp.
    exact = {BANDS} | (set(bands) if method != "median" else set())
    label = f"{method} n={n}"
    compared = compare(got, want, method, bands, exact, label)
    assert compared > pixels, label  # values were compared, not only NaN
    counts = want[:, BANDS]
    assert (counts == 0).any() and (counts > 0).any(), f"{label}: want pixels with and without clear observations"
    if n >= 4:
        assert (counts % 2 == 0).any() and (counts % 2 == 1).any(), f"{label}: want even and odd clear counts"


def test_median_and_percentiles_mostly_exact():
    """1 ulp is the tolerance; numpy's float64 median and linear percentile are reproduced
    operation for operation, so in practice every value should match exactly."""
    rng = np.random.default_rng(7)
    bands = [0, 1, 2, 3, 4, 5]
    stacks = random_stacks(rng, 2000, 20)
    got = run_probe(stacks, "median", bands, PERCENTILES)
    want = reference(stacks, "median", bands, PERCENTILES)
    f = ~np.isnan(want)
    assert np.array_equal(np.isnan(got), ~f)
    exact = np.mean(got[f] == want[f])
    assert exact == 1.0, f"only {exact:.4%} of medians and percentiles are bit-exact"


def test_probe_refuses_max_ndvi_without_nir():
    stacks = np.zeros((1, 2, BANDS), dtype=np.float32)
    with pytest.raises(subprocess.CalledProcessError):
        run_probe(stacks, "max_ndvi", [0, 2], [])
