"""Trend statistics of reclaim (through tests/pixel/trend_probe) against scipy and float64
textbook formulas written here, on random series with ties, missing epochs and uneven years.

  - Theil–Sen slope: scipy.stats.theilslopes (median of the slopes of x-distinct pairs).
  - Mann–Kendall S, Z, p: Mann (1945) / Kendall (1975), tie-corrected variance
    var(S) = [n(n-1)(2n+5) - sum t(t-1)(2t+5)] / 18, continuity-corrected Z, p = erfc(|Z|/sqrt 2).
  - year of recovery and the recovery metrics (docs/trend.md) re-implemented with numpy.

Run: RECLAIM_TREND_PROBE=build/tests/trend_probe /usr/bin/python3 -m pytest tests/pixel/test_trend_scipy.py
"""

import math
import os
import subprocess

import numpy as np
import pytest
from scipy import stats

PROBE = os.environ.get("RECLAIM_TREND_PROBE")
OUTPUTS = ["slope", "mk_s", "mk_z", "mk_p", "n_valid", "recovery_year", "dvi", "yryr", "rri", "r80p", "y2r"]
TOL = 1e-6  # the acceptance tolerance for slopes and p-values

pytestmark = pytest.mark.skipif(not PROBE, reason="RECLAIM_TREND_PROBE is not set (run through ctest)")


def run_probe(series, *args):
    lines = []
    for x, y in series:
        lines.append(" ".join([str(len(x))] + [repr(float(v)) for v in x] + [repr(float(v)) for v in y]))
    done = subprocess.run([PROBE, *map(str, args)], input="\n".join(lines) + "\n", capture_output=True,
                          text=True, check=True)
    rows = [list(map(float, line.split())) for line in done.stdout.splitlines()]
    assert len(rows) == len(series)
    return [dict(zip(OUTPUTS, row)) for row in rows]


def random_series(rng, count, max_epochs=40, first_year=1995.0, duplicate_years=False):
    out = []
    for k in range(count):
        n = int(rng.integers(4, max_epochs + 1)) if k % 10 else 64
        if k % 3 == 0:
            gaps = np.ones(n)
        else:
            gaps = rng.choice([1.0, 1.0, 1.0, 2.0, 3.0, 0.5], size=n)
        if duplicate_years:
            gaps[rng.random(n) < 0.2] = 0.0
        x = first_year + np.cumsum(gaps) - gaps[0]
        trend = rng.normal(0.0, 0.03)
        y = 0.2 + trend * (x - x[0]) + rng.normal(0.0, 0.08, size=n)
        if k % 2 == 0:  # ties
            y = np.round(y / 0.05) * 0.05
        elif k % 5 == 1:
            y = np.round(y, 2)
        missing = rng.random(n) < rng.choice([0.0, 0.1, 0.3])
        y[missing] = np.nan
        if k % 17 == 0:
            y[rng.integers(0, n)] = np.inf  # +-inf counts as missing too
        out.append((x, y))
    return out


def textbook_mann_kendall(y):
    """S, Z, two-sided p in float64 from the textbook formulas (y in time order, valid only)."""
    n = len(y)
    s = 0
    for i in range(n - 1):
        s += int(np.sum(np.sign(y[i + 1:] - y[i])))
    _, counts = np.unique(y, return_counts=True)
    ties = sum(int(t) * (int(t) - 1) * (2 * int(t) + 5) for t in counts)
    var = (n * (n - 1) * (2 * n + 5) - ties) / 18.0
    if s > 0:
        z = (s - 1) / math.sqrt(var)
    elif s < 0:
        z = (s + 1) / math.sqrt(var)
    else:
        z = 0.0
    return s, z, math.erfc(abs(z) / math.sqrt(2.0))


def test_theil_sen_and_mann_kendall_match_scipy_and_textbook():
    rng = np.random.default_rng(42)
    series = random_series(rng, 1500)
    results = run_probe(series, "--min-epochs", 4)
    worst_slope = worst_p = 0.0
    checked = nodata = 0
    for (x, y), r in zip(series, results):
        valid = np.isfinite(y)
        assert r["n_valid"] == valid.sum()
        if valid.sum() < 4:
            assert all(math.isnan(r[k]) for k in OUTPUTS if k != "n_valid")
            nodata += 1
            continue
        xv, yv = x[valid], y[valid]
        expected_slope = stats.theilslopes(yv, xv)[0]
        worst_slope = max(worst_slope, abs(r["slope"] - expected_slope))
        assert abs(r["slope"] - expected_slope) <= TOL, (x, y, r["slope"], expected_slope)
        s, z, p = textbook_mann_kendall(yv)
        assert r["mk_s"] == s
        assert abs(r["mk_z"] - z) <= 1e-9
        worst_p = max(worst_p, abs(r["mk_p"] - p))
        assert abs(r["mk_p"] - p) <= TOL, (x, y, r["mk_p"], p)
        checked += 1
    assert checked >= 1000 and nodata > 0
    print(f"\n{checked} series: max |slope - scipy| = {worst_slope:.3g}, max |p - textbook| = {worst_p:.3g}")


def test_theil_sen_skips_pairs_with_equal_years_like_scipy():
    rng = np.random.default_rng(7)
    series = random_series(rng, 300, duplicate_years=True)
    for (x, y), r in zip(series, run_probe(series, "--min-epochs", 2)):
        valid = np.isfinite(y)
        xv, yv = x[valid], y[valid]
        if valid.sum() < 2 or np.ptp(xv) == 0:
            continue
        assert abs(r["slope"] - stats.theilslopes(yv, xv)[0]) <= TOL


def test_p_values_span_the_tails():
    # Strong monotone trends of up to 64 epochs: p down to ~1e-29, where only a relative
    # comparison means anything.
    series = []
    for n in (4, 7, 10, 20, 40, 64):
        x = np.arange(n, dtype=float) + 2000
        series.append((x, 0.01 * np.arange(n)))
        series.append((x, -0.01 * np.arange(n)))
    for (x, y), r in zip(series, run_probe(series)):
        s, z, p = textbook_mann_kendall(y)
        assert r["mk_s"] == s
        assert r["mk_p"] == pytest.approx(p, rel=1e-12, abs=0.0)


def expected_recovery_year(x, y, threshold):
    year = math.nan
    for xi, yi in zip(x[::-1], y[::-1]):
        if not np.isfinite(yi):
            continue
        if not yi >= threshold:
            break
        year = xi
    return year


def expected_recovery(x, y, t_d, t_r, timestep=5.0, percent=80.0, reference=None, pre_years=2.0):
    def at(year):
        hit = np.nonzero(x == year)[0]
        return y[hit[0]] if len(hit) and np.isfinite(y[hit[0]]) else math.nan

    v_r, v_end, v_before, v_d = at(t_r), at(t_r + timestep), at(t_r + timestep - 1), at(t_d)
    dvi = v_end - v_r
    best = np.nanmax([v_before, v_end]) if not (math.isnan(v_before) and math.isnan(v_end)) else math.nan
    rri = math.nan if v_d - v_r == 0 else (best - v_r) / (v_d - v_r)
    if reference is None:
        window = (x >= t_d - pre_years) & (x < t_d) & np.isfinite(y)
        target = y[window].mean() if window.any() else math.nan
    else:
        target = reference
    goal = percent / 100.0 * target
    r80p = v_end / goal if goal != 0 else math.nan
    y2r = math.nan
    for xi, yi in zip(x, y):
        if xi >= t_r and np.isfinite(yi) and yi >= goal:
            y2r = xi - t_r
            break
    return {"dvi": dvi, "yryr": dvi / timestep, "rri": rri, "r80p": r80p, "y2r": y2r}


def close_or_both_nan(a, b, tol=1e-12):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= tol * max(1.0, abs(b))


@pytest.mark.parametrize("reference", [None, 0.45])
def test_recovery_year_and_metrics(reference):
    rng = np.random.default_rng(11)
    series = []
    for k in range(400):
        n = int(rng.integers(6, 30))
        x = 1996.0 + np.cumsum(rng.choice([1.0, 1.0, 1.0, 2.0], size=n))
        y = np.where(x < 2000, 0.6, np.where(x < 2001, 0.15, 0.15 + 0.06 * (x - 2001)))
        y = np.round(y + rng.normal(0.0, 0.05, size=n), 2)
        y[rng.random(n) < 0.15] = np.nan
        series.append((x, y))
    args = ["--min-epochs", 2, "--vegetated", 0.4, "--disturbance", 2000, "--restoration", 2001]
    if reference is not None:
        args += ["--reference", reference]
    defined = {k: 0 for k in ("dvi", "rri", "r80p", "y2r")}
    for (x, y), r in zip(series, run_probe(series, *args)):
        if np.isfinite(y).sum() < 2:
            continue
        assert close_or_both_nan(r["recovery_year"], expected_recovery_year(x, y, 0.4))
        expected = expected_recovery(x, y, 2000.0, 2001.0, reference=reference)
        for key, value in expected.items():
            assert close_or_both_nan(r[key], value), (key, x, y, r[key], value)
            if key in defined and not math.isnan(value):
                defined[key] += 1
    assert all(count > 50 for count in defined.values()), defined  # the comparisons were not all NaN
