#!/usr/bin/python3
"""Write a small scene with the layout of `reclaim synth`, for trying the peer parts of
compare_indices.sh without the reclaim CLI.

    make_test_scene.py OUT.tif [--size 2048] [--block 512] [--seed 42]

7 bands UInt16, tiled DEFLATE GeoTIFF, EPSG:32649, 10 m pixels: B02 B03 B04 B08 B11 B12
(nodata 0) and an SCL-like class band. Values are smooth fields plus noise (so DEFLATE
behaves roughly as on imagery), with ~0.5 % nodata, ~0.1 % saturated pixels and ~4 % SCL
cloud/shadow classes. Run with Debian's /usr/bin/python3 (numpy + GDAL).
"""
import argparse

import numpy as np
from osgeo import gdal, osr

gdal.UseExceptions()

BANDS = ["B02", "B03", "B04", "B08", "B11", "B12"]
# Mean DN per band over "vegetation" and "bare soil" (BOA offset +1000 included).
VEG = [1300, 1600, 1400, 4200, 2800, 1900]
SOIL = [1900, 2300, 2700, 3200, 3800, 3300]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--size", type=int, default=2048)
    ap.add_argument("--block", type=int, default=512)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    n = a.size
    y, x = np.mgrid[0:n, 0:n].astype(np.float32) / np.float32(n)
    # Fraction of vegetation: a few smooth blobs.
    veg = 0.5 + 0.25 * np.sin(7.0 * x + 1.3) * np.cos(5.0 * y) + 0.25 * np.sin(13.0 * (x + y))
    veg = np.clip(veg, 0.0, 1.0).astype(np.float32)

    drv = gdal.GetDriverByName("GTiff")
    ds = drv.Create(a.out, n, n, 7, gdal.GDT_UInt16,
                    ["TILED=YES", f"BLOCKXSIZE={a.block}", f"BLOCKYSIZE={a.block}", "COMPRESS=DEFLATE",
                     "BIGTIFF=IF_SAFER"])
    ds.SetGeoTransform([500000.0, 10.0, 0.0, 7500000.0, 0.0, -10.0])
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32649)
    ds.SetProjection(srs.ExportToWkt())

    invalid = rng.random((n, n), dtype=np.float32)
    for i, name in enumerate(BANDS):
        dn = veg * VEG[i] + (1.0 - veg) * SOIL[i] + rng.normal(0.0, 60.0, (n, n)).astype(np.float32)
        dn = np.clip(np.rint(dn), 1, 65534).astype(np.uint16)
        dn[invalid < 0.005] = 0
        dn[(invalid >= 0.005) & (invalid < 0.006)] = 65535
        band = ds.GetRasterBand(i + 1)
        band.SetDescription(name)
        band.SetNoDataValue(0)
        band.WriteArray(dn)

    scl = np.where(veg > 0.5, 4, 5).astype(np.uint16)
    cloud = rng.random((n, n), dtype=np.float32)
    scl[cloud < 0.04] = rng.choice(np.array([3, 8, 9, 10], dtype=np.uint16), size=int((cloud < 0.04).sum()))
    band = ds.GetRasterBand(7)
    band.SetDescription("SCL")
    band.WriteArray(scl)
    ds = None
    print(f"make_test_scene: wrote {a.out} ({n} x {n}, 7 bands UInt16, {a.block} x {a.block} blocks)")


if __name__ == "__main__":
    main()
