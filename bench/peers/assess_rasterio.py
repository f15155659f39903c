#!/usr/bin/env python3
"""`reclaim assess` as a skilled rasterio + numpy user writes it, in one script
(the rasterio peer of bench/peers/compare_assess.sh).

    assess_rasterio.py --before 2019.tif --after 2025.tif --sites S.gpkg --id-field site_id --out DIR
                       [--boa-offset 0] [--years Y]

1. One pass over both scenes in 512 x 512 windows (the scenes' blocks), bands B02 B03 B04 B08 B11
   SCL (1, 2, 3, 4, 5, 7: the `reclaim synth` layout) of each epoch. Sentinel-2 L2A calibration
   as reclaim's (docs/sensors.md): reflectance = (DN + BOA_ADD_OFFSET) * 1e-4 in float64, DN 0
   (nodata) or >= 65535 (saturated) invalid, SCL classes 3, 8, 9, 10 masked. NDVI, BSI and
   MNDWI of each epoch, the default change rules of docs/change.md (first match wins, in
   float64), dNDVI = NDVI_after - NDVI_before rounded once to Float32. Written as tiled DEFLATE
   GeoTIFFs, 512 x 512 blocks, NUM_THREADS=ALL_CPUS: DIR/<before>_ndvi.tif, DIR/<after>_ndvi.tif
   and DIR/dndvi.tif (Float32, NaN nodata, PREDICTOR=3), DIR/change_class.tif (Byte, nodata 0,
   PREDICTOR=2). Labels are the scene file stems.
2. Per site, from the rasters just written: the site's bounding-box window of each, the polygon
   rasterized into it with the pixel-centre rule (rasterio.features.rasterize, all_touched=False:
   `reclaim assess --coverage center`), numpy statistics: area and hectares per change class,
   valid fraction, vegetation cover per epoch (% of the site's valid-NDVI pixels with NDVI >= 0.4),
   NDVI mean and median (exact) per epoch, mean dNDVI, still-bare %, carbon (revegetated ha x
   years x 1/2/3 t C/ha/yr) and the default grade (docs/metrics.md). DIR/sites.csv, columns named
   as in reclaim's sites.csv. Sites are read with OGR and reprojected to the scenes' CRS if needed.
Prints "phase rasters SECONDS" and "phase sites SECONDS".
"""
import argparse
import csv
import json
import math
import os
import time

import numpy as np
import rasterio
from rasterio.features import rasterize
from rasterio.windows import Window, from_bounds

from osgeo import ogr, osr

ogr.UseExceptions()

BANDS = [1, 2, 3, 4, 5, 7]  # B02 B03 B04 B08 B11 SCL
MASKED_SCL = [3, 8, 9, 10]
VEGETATED = 0.4
RATES = (1.0, 2.0, 3.0)
CLASS_COLUMNS = [("no_data_ha", 0), ("still_bare_ha", 1), ("revegetated_ha", 2), ("partial_recovery_ha", 3),
                 ("stable_vegetation_ha", 4), ("newly_disturbed_ha", 5), ("water_ha", 6), ("unclassified_ha", 255)]
GRADES = [("A", 60.0, 10.0, -math.inf), ("B", 40.0, 25.0, -math.inf), ("C", -math.inf, math.inf, 10.0),
          ("D", -math.inf, math.inf, 1.0)]  # name, min cover after %, max still bare %, min cover gain pp


def nd(p, q):
    s = p + q
    return (p - q) / np.where(s == 0, np.nan, s)


def indices(x, boa):
    """(6, h, w) UInt16 of one epoch -> NDVI, BSI, MNDWI in float64 (NaN where invalid or masked)."""
    masked = np.isin(x[5], MASKED_SCL)
    dn = x[:5]
    rho = np.where(masked | (dn == 0) | (dn >= 65535), np.nan, (dn.astype(np.float64) + boa) * 1e-4)
    blue, green, red, nir, swir1 = rho
    return nd(nir, red), nd(swir1 + red, nir + blue), nd(green, swir1)


def classify(v0, x0, m0, v1, x1, m1):
    d = v1 - v0
    nodata = np.isnan(v0) | np.isnan(v1) | np.isnan(x0) | np.isnan(x1) | np.isnan(m0) | np.isnan(m1)
    bare0 = (v0 < 0.2) & (x0 > 0)
    conditions = [nodata, (m0 > 0) | (m1 > 0), d <= -0.15, bare0 & (v1 >= VEGETATED), (d >= 0.15) & (v1 < VEGETATED),
                  (v0 >= VEGETATED) & (v1 >= VEGETATED), bare0 & (v1 < 0.2) & (x1 > 0)]
    return np.select(conditions, [0, 6, 5, 2, 3, 4, 1], 255).astype(np.uint8)


def grade(valid_fraction, cover_after, bare_pct, gain):
    if not valid_fraction >= 0.5:
        return "n/a"
    for name, min_cover, max_bare, min_gain in GRADES:
        if cover_after >= min_cover and bare_pct <= max_bare and gain >= min_gain:
            return name
    return "E"


def fmt(v):
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else repr(float(v))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", required=True)
    ap.add_argument("--after", required=True)
    ap.add_argument("--sites", required=True)
    ap.add_argument("--id-field", default="site_id")
    ap.add_argument("--out", required=True)
    ap.add_argument("--boa-offset", type=float, default=0.0)
    ap.add_argument("--years", type=float)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    label_b = os.path.splitext(os.path.basename(a.before))[0]
    label_a = os.path.splitext(os.path.basename(a.after))[0]
    years = a.years
    if years is None:
        try:
            years = float(label_a) - float(label_b)
        except ValueError:
            years = math.nan
    paths = {"ndvi_b": os.path.join(a.out, f"{label_b}_ndvi.tif"), "ndvi_a": os.path.join(a.out, f"{label_a}_ndvi.tif"),
             "dndvi": os.path.join(a.out, "dndvi.tif"), "class": os.path.join(a.out, "change_class.tif")}

    # ---- 1. the rasters, window by window ----
    t0 = time.perf_counter()
    with rasterio.open(a.before) as src_b, rasterio.open(a.after) as src_a:
        if (src_b.width, src_b.height, src_b.transform) != (src_a.width, src_a.height, src_a.transform):
            raise SystemExit("the two scenes must share a grid")
        common = dict(driver="GTiff", width=src_b.width, height=src_b.height, count=1, crs=src_b.crs,
                      transform=src_b.transform, tiled=True, blockxsize=512, blockysize=512, compress="deflate",
                      num_threads="all_cpus", bigtiff="if_safer")
        f32 = dict(common, dtype="float32", nodata=np.nan, predictor=3)
        u8 = dict(common, dtype="uint8", nodata=0, predictor=2)
        with rasterio.open(paths["ndvi_b"], "w", **f32) as o_nb, rasterio.open(paths["ndvi_a"], "w", **f32) as o_na, \
                rasterio.open(paths["dndvi"], "w", **f32) as o_d, rasterio.open(paths["class"], "w", **u8) as o_c, \
                np.errstate(divide="ignore", invalid="ignore"):
            for _, win in src_b.block_windows(1):
                v0, x0, m0 = indices(src_b.read(BANDS, window=win), a.boa_offset)
                v1, x1, m1 = indices(src_a.read(BANDS, window=win), a.boa_offset)
                o_c.write(classify(v0, x0, m0, v1, x1, m1), 1, window=win)
                o_d.write((v1 - v0).astype(np.float32), 1, window=win)
                o_nb.write(v0.astype(np.float32), 1, window=win)
                o_na.write(v1.astype(np.float32), 1, window=win)
        crs_wkt = src_b.crs.to_wkt()

    print(f"phase rasters {time.perf_counter() - t0:.3f}", flush=True)

    # ---- 2. per-site statistics from the written rasters ----
    t0 = time.perf_counter()
    vds = ogr.Open(a.sites)
    lyr = vds.GetLayer(0)
    dst_srs = osr.SpatialReference(wkt=crs_wkt)
    dst_srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    src_srs = lyr.GetSpatialRef()
    ct = None
    if src_srs is not None and not src_srs.IsSame(dst_srs):
        src_srs = src_srs.Clone()
        src_srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        ct = osr.CoordinateTransformation(src_srs, dst_srs)
    columns = ["area_ha", "valid_fraction", "cover_before_pct", "cover_after_pct", "cover_gain_pp", "ndvi_before_mean",
               "ndvi_before_median", "ndvi_after_mean", "ndvi_after_median", "dndvi_mean"] + \
              [c for c, _ in CLASS_COLUMNS] + ["still_bare_pct", "carbon_low_tC", "carbon_central_tC",
                                               "carbon_high_tC", "grade"]
    with rasterio.open(paths["class"]) as r_c, rasterio.open(paths["ndvi_b"]) as r_nb, \
            rasterio.open(paths["ndvi_a"]) as r_na, rasterio.open(paths["dndvi"]) as r_d, \
            open(os.path.join(a.out, "sites.csv"), "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([a.id_field] + columns)
        pixel_ha = abs(r_c.transform.a * r_c.transform.e) / 1e4
        full = Window(0, 0, r_c.width, r_c.height)
        for f in lyr:
            g = f.GetGeometryRef().Clone()
            if ct is not None:
                g.Transform(ct)
            minx, maxx, miny, maxy = g.GetEnvelope()
            win = from_bounds(minx, miny, maxx, maxy, transform=r_c.transform)
            win = win.round_offsets(op="floor").round_lengths(op="ceil")
            win = Window(win.col_off, win.row_off, win.width + 1, win.height + 1)  # the last partial pixel
            try:
                win = win.intersection(full)
            except Exception:  # no overlap (rasterio's WindowError): no area, nothing else
                m = dict.fromkeys(columns, math.nan)
                m.update(dict.fromkeys(["area_ha"] + [c for c, _ in CLASS_COLUMNS], 0.0))
                w.writerow([f.GetField(a.id_field)] + ["n/a" if c == "grade" else fmt(m[c]) for c in columns])
                continue
            cls = r_c.read(1, window=win)
            inside = rasterize([(json.loads(g.ExportToJson()), 1)], out_shape=cls.shape,
                               transform=r_c.window_transform(win), fill=0, all_touched=False,
                               dtype="uint8").astype(bool)
            n = int(inside.sum())
            counts = np.bincount(cls[inside], minlength=256)
            valid = n - int(counts[0])
            m = {"area_ha": n * pixel_ha, "valid_fraction": valid / n if n else math.nan}
            for name, value in CLASS_COLUMNS:
                m[name] = counts[value] * pixel_ha
            for key, r in (("before", r_nb), ("after", r_na)):
                v = r.read(1, window=win)[inside].astype(np.float64)
                v = v[~np.isnan(v)]
                m[f"cover_{key}_pct"] = 100.0 * np.count_nonzero(v >= VEGETATED) / v.size if v.size else math.nan
                m[f"ndvi_{key}_mean"] = v.mean() if v.size else math.nan
                m[f"ndvi_{key}_median"] = np.median(v) if v.size else math.nan
            d = r_d.read(1, window=win)[inside].astype(np.float64)
            d = d[~np.isnan(d)]
            m["dndvi_mean"] = d.mean() if d.size else math.nan
            m["cover_gain_pp"] = m["cover_after_pct"] - m["cover_before_pct"]
            m["still_bare_pct"] = 100.0 * counts[1] / valid if valid else math.nan
            for k, name in enumerate(("carbon_low_tC", "carbon_central_tC", "carbon_high_tC")):
                m[name] = m["revegetated_ha"] * years * RATES[k]
            m["grade"] = grade(m["valid_fraction"], m["cover_after_pct"], m["still_bare_pct"], m["cover_gain_pp"])
            w.writerow([f.GetField(a.id_field)] + [m["grade"] if c == "grade" else fmt(m[c]) for c in columns])
    print(f"phase sites {time.perf_counter() - t0:.3f}", flush=True)


if __name__ == "__main__":
    main()
