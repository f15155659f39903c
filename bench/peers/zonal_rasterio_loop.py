#!/usr/bin/env python3
"""The per-site loop a rasterio user writes: for each zone, read only its bounding-box window,
rasterize that one polygon into the window (pixel-centre rule), take numpy statistics.

    zonal_rasterio_loop.py --raster R.tif --zones Z.gpkg --id-field site_id --out X.csv

Zones are read with OGR (osgeo) and handed to rasterio as GeoJSON mappings; they must be in
the raster's CRS. rasterio.features.rasterize with all_touched=False burns the pixels whose
centre falls inside the polygon (GDAL's rule), which is `reclaim zonal --coverage center`.
NaN and the band's nodata value are excluded. Statistics in float64: count, sum, mean, min,
max, stddev (population, ddof=0). Zones with no valid pixel get count 0 and empty values.
"""
import argparse
import csv
import json
import math

import numpy as np
import rasterio
from rasterio.features import rasterize
from rasterio.windows import Window, from_bounds

from osgeo import ogr

ogr.UseExceptions()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raster", required=True)
    ap.add_argument("--zones", required=True)
    ap.add_argument("--id-field", default="site_id")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    vds = ogr.Open(a.zones)
    lyr = vds.GetLayer(0)
    with rasterio.open(a.raster) as src, open(a.out, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([a.id_field, "count", "sum", "mean", "min", "max", "stddev"])
        nodata = src.nodata
        full = Window(0, 0, src.width, src.height)
        for f in lyr:
            g = f.GetGeometryRef()
            minx, maxx, miny, maxy = g.GetEnvelope()
            win = from_bounds(minx, miny, maxx, maxy, transform=src.transform)
            win = win.round_offsets(op="floor").round_lengths(op="ceil")
            # round_lengths after flooring the offset can drop the last partial pixel: pad one.
            win = Window(win.col_off, win.row_off, win.width + 1, win.height + 1)
            try:
                win = win.intersection(full)
            except Exception:  # rasterio raises WindowError when they do not overlap
                w.writerow([f.GetField(a.id_field), 0, "", "", "", "", ""])
                continue
            data = src.read(1, window=win)
            inside = rasterize([(json.loads(g.ExportToJson()), 1)], out_shape=data.shape,
                               transform=src.window_transform(win), fill=0, all_touched=False,
                               dtype="uint8").astype(bool)
            valid = inside & ~np.isnan(data)
            if nodata is not None and not math.isnan(nodata):
                valid &= data != nodata
            v = data[valid].astype(np.float64)
            if v.size == 0:
                w.writerow([f.GetField(a.id_field), 0, "", "", "", "", ""])
                continue
            s = v.sum()
            w.writerow([f.GetField(a.id_field), v.size, repr(s), repr(s / v.size), repr(v.min()),
                        repr(v.max()), repr(v.std())])


if __name__ == "__main__":
    main()
