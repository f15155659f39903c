#!/usr/bin/env python3
"""The core of `reclaim assess` as a rasterio + numpy user typically writes it: whole bands in
memory, float32 arithmetic, the four rasters written with rasterio (DEFLATE), and the per-site
dNDVI statistics from rasterstats. This is the user's script of bench/peers/compare_assess.sh.
Beside it, assess_rasterio.py is the faithful replica: block by block, in float64, and with
every column of reclaim's sites.csv.

    assess_user_script.py --before 2019.tif --after 2025.tif --sites S.gpkg --id-field site_id --out DIR
                          [--boa-offset 0]

The same rules as reclaim's defaults (docs/sensors.md, docs/change.md), written the plain way:
- reflectance = (DN + offset) * 1e-4 in float32;
- DN 0 or >= 65535 is invalid, and SCL 3, 8, 9, 10 is masked;
- NDVI, BSI and MNDWI of each epoch;
- the change rule table with np.select;
- dNDVI = NDVI after - NDVI before.

It writes DIR/<before>_ndvi.tif, DIR/<after>_ndvi.tif, DIR/dndvi.tif (Float32, NaN nodata)
and DIR/change_class.tif (Byte, nodata 0), as GeoTIFFs with compress="deflate", like the
rasterio examples.

DIR/sites.csv holds, per site: dndvi_mean, dndvi_median and dndvi_count. They come from
rasterstats.zonal_stats on dndvi.tif, with the pixel-centre rule, and the sites reprojected to
the raster's CRS with OGR.
"""
import argparse
import csv
import json
import os

import numpy as np
import rasterio
from osgeo import ogr, osr
from rasterstats import zonal_stats

ogr.UseExceptions()
MASKED_SCL = [3, 8, 9, 10]


def epoch(path, boa):
    with rasterio.open(path) as src:
        bands = src.read([1, 2, 3, 4, 5, 7])  # B02 B03 B04 B08 B11 SCL
        profile = src.profile
    dn = bands[:5]
    bad = (dn == 0) | (dn >= 65535) | np.isin(bands[5], MASKED_SCL)
    rho = np.where(bad, np.float32(np.nan), (dn.astype(np.float32) + np.float32(boa)) * np.float32(1e-4))
    blue, green, red, nir, swir1 = rho
    with np.errstate(divide="ignore", invalid="ignore"):
        ndvi = (nir - red) / (nir + red)
        bsi = ((swir1 + red) - (nir + blue)) / ((swir1 + red) + (nir + blue))
        mndwi = (green - swir1) / (green + swir1)
    return ndvi, bsi, mndwi, profile


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", required=True)
    ap.add_argument("--after", required=True)
    ap.add_argument("--sites", required=True)
    ap.add_argument("--id-field", default="site_id")
    ap.add_argument("--out", required=True)
    ap.add_argument("--boa-offset", type=float, default=0.0)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    label = lambda p: os.path.splitext(os.path.basename(p))[0]

    v0, x0, m0, profile = epoch(a.before, a.boa_offset)
    v1, x1, m1, _ = epoch(a.after, a.boa_offset)
    d = v1 - v0
    nodata = np.isnan(v0) | np.isnan(v1) | np.isnan(x0) | np.isnan(x1) | np.isnan(m0) | np.isnan(m1)
    bare0 = (v0 < 0.2) & (x0 > 0)
    classes = np.select([nodata, (m0 > 0) | (m1 > 0), d <= -0.15, bare0 & (v1 >= 0.4), (d >= 0.15) & (v1 < 0.4),
                         (v0 >= 0.4) & (v1 >= 0.4), bare0 & (v1 < 0.2) & (x1 > 0)],
                        [0, 6, 5, 2, 3, 4, 1], 255).astype(np.uint8)

    profile.update(count=1, compress="deflate", interleave="band")
    profile.pop("blockxsize", None)
    profile.pop("blockysize", None)
    profile.pop("tiled", None)
    for name, array in ((f"{label(a.before)}_ndvi.tif", v0), (f"{label(a.after)}_ndvi.tif", v1), ("dndvi.tif", d)):
        with rasterio.open(os.path.join(a.out, name), "w", **dict(profile, dtype="float32", nodata=np.nan)) as dst:
            dst.write(array, 1)
    with rasterio.open(os.path.join(a.out, "change_class.tif"), "w", **dict(profile, dtype="uint8", nodata=0)) as dst:
        dst.write(classes, 1)
        crs_wkt = dst.crs.to_wkt()

    # The sites, in the raster's CRS, as GeoJSON-like dicts for rasterstats.
    ds = ogr.Open(a.sites)
    layer = ds.GetLayer(0)
    target = osr.SpatialReference(wkt=crs_wkt)
    target.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    source = layer.GetSpatialRef()
    transform = None
    if source is not None and not source.IsSame(target):
        source = source.Clone()
        source.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        transform = osr.CoordinateTransformation(source, target)
    ids, shapes = [], []
    for f in layer:
        g = f.GetGeometryRef().Clone()
        if transform is not None:
            g.Transform(transform)
        ids.append(f.GetField(a.id_field))
        shapes.append(json.loads(g.ExportToJson()))
    stats = zonal_stats(shapes, os.path.join(a.out, "dndvi.tif"), stats=["mean", "median", "count"])
    with open(os.path.join(a.out, "sites.csv"), "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([a.id_field, "dndvi_mean", "dndvi_median", "dndvi_count"])
        for i, s in zip(ids, stats):
            w.writerow([i, "" if s["mean"] is None else repr(float(s["mean"])),
                        "" if s["median"] is None else repr(float(s["median"])), s["count"]])


if __name__ == "__main__":
    main()
