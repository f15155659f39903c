"""Independent float64 reference for every index (numpy), written from the formulas'
published definitions, not from reclaim's code."""
import numpy as np

S2_MASKED_SCL = (3, 8, 9, 10)


def safe_div(num, den):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den == 0, np.nan, num / np.where(den == 0, 1, den))


def s2_reflectance(dn, boa_offset=0.0):
    """(DN + BOA_ADD_OFFSET) x 1e-4, as docs/sensors.md defines it (multiplying by 1e-4 and
    dividing by 10000 differ in the last bit, which matters only exactly at a threshold)."""
    dn = dn.astype(np.float64)
    r = (dn + boa_offset) * 1e-4
    return np.where((dn == 0) | (dn >= 65535), np.nan, r)


def indices(b, savi_l=0.5, soil=0.05, veg=0.86):
    """b: dict of float64 reflectance arrays (blue, green, red, nir, swir1, swir2)."""
    blue, green, red, nir = b.get("blue"), b.get("green"), b.get("red"), b.get("nir")
    swir1, swir2 = b.get("swir1"), b.get("swir2")
    out = {}
    out["ndvi"] = safe_div(nir - red, nir + red)
    out["evi"] = safe_div(2.5 * (nir - red), nir + 6 * red - 7.5 * blue + 1)
    out["savi"] = safe_div((1 + savi_l) * (nir - red), nir + red + savi_l)
    a = 2 * nir + 1
    disc = a * a - 8 * (nir - red)
    with np.errstate(invalid="ignore"):
        out["msavi2"] = np.where(disc < 0, np.nan, (a - np.sqrt(np.maximum(disc, 0))) / 2)
    out["msavi2"] = np.where(np.isnan(disc), np.nan, out["msavi2"])
    out["ndwi"] = safe_div(green - nir, green + nir)
    out["mndwi"] = safe_div(green - swir1, green + swir1)
    out["nbr"] = safe_div(nir - swir2, nir + swir2)
    out["ndmi"] = safe_div(nir - swir1, nir + swir1)
    out["bsi"] = safe_div((swir1 + red) - (nir + blue), (swir1 + red) + (nir + blue))
    with np.errstate(invalid="ignore"):
        out["fvc"] = np.clip((out["ndvi"] - soil) / (veg - soil), 0.0, 1.0)
    return out


def apply_mask(values, masked):
    return {k: np.where(masked, np.nan, v) for k, v in values.items()}


def bilinear_upsample(coarse, factor, out_shape):
    """Bilinear upsampling by an integer factor, pixel-centre aligned (fine pixel i sits at
    coarse coordinate (i + 0.5)/f - 0.5), edges clamped; NaN spreads from neighbours with
    non-zero weight only."""
    ch, cw = coarse.shape
    h, w = out_shape

    def axis(n, f, size):
        u = (np.arange(n) + 0.5) / f - 0.5
        i0 = np.floor(u)
        t = u - i0
        i0 = i0.astype(np.int64)
        return np.clip(i0, 0, size - 1), np.clip(i0 + 1, 0, size - 1), t

    y0, y1, ty = axis(h, factor, ch)
    x0, x1, tx = axis(w, factor, cw)

    def lerp(a, b, t):
        return np.where(t == 0, a, (1 - t) * a + t * b)

    tx2 = tx[None, :]
    top = lerp(coarse[y0][:, x0], coarse[y0][:, x1], tx2)
    bottom = lerp(coarse[y1][:, x0], coarse[y1][:, x1], tx2)
    return lerp(top, bottom, ty[:, None])


def assert_close(actual, expected, name, tol=1e-6):
    """Every pixel within tol (absolute, or relative for |expected| > 1) and identical NaN masks."""
    actual = actual.astype(np.float64)
    nan_a, nan_e = np.isnan(actual), np.isnan(expected)
    mismatch = nan_a != nan_e
    assert not mismatch.any(), (f"{name}: nodata masks differ at {int(mismatch.sum())} pixels, "
                                f"first at {np.argwhere(mismatch)[0].tolist()}")
    ok = ~nan_e
    err = np.abs(actual[ok] - expected[ok]) / np.maximum(1.0, np.abs(expected[ok]))
    worst = float(err.max()) if err.size else 0.0
    assert worst <= tol, f"{name}: max error {worst:.3g} > {tol}"
    return worst
