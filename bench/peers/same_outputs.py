"""Whether two `reclaim assess` output folders hold the same results: sites.csv byte for byte and
every raster's pixels (GDAL checksums of every band). Prints one line for the results table.

    same_outputs.py DIR_A DIR_B
"""
import filecmp
import os
import sys

from osgeo import gdal

gdal.UseExceptions()


def checksums(path):
    ds = gdal.Open(path)
    return [ds.GetRasterBand(k + 1).Checksum() for k in range(ds.RasterCount)]


def main() -> int:
    a, b = sys.argv[1:3]
    if not (os.path.isdir(a) and os.path.isdir(b)):
        print("not compared (a run failed)")
        return 0
    differ = []
    if not filecmp.cmp(os.path.join(a, "sites.csv"), os.path.join(b, "sites.csv"), shallow=False):
        differ.append("sites.csv")
    rasters = sorted(f for f in os.listdir(a) if f.endswith(".tif"))
    for f in rasters:
        other = os.path.join(b, f)
        if not os.path.exists(other) or checksums(os.path.join(a, f)) != checksums(other):
            differ.append(f)
    if differ:
        print("DIFFER: " + ", ".join(differ))
    else:
        print(f"identical (sites.csv bytes; pixels of {len(rasters)} rasters by GDAL checksum)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
