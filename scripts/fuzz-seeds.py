#!/usr/bin/python3
"""Writes the tiny binary seeds of the fuzz targets (tests/fuzz) into OUT/<target>/: GeoTIFFs of
a few layouts for geotiff_fuzz, and a zonal partial file written by reclaim itself (framed as
zonal_partial_fuzz reads it, plus the raw file) for zonal_partial_fuzz. Each is under 4 KiB.
Usage: scripts/fuzz-seeds.py OUT RECLAIM_BIN"""
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
from osgeo import gdal, ogr, osr

gdal.UseExceptions()


def srs():
    s = osr.SpatialReference()
    s.ImportFromEPSG(32649)
    return s


def tif(path, planes, dtype, options, nodata=None, overviews=False):
    h, w = planes[0].shape
    ds = gdal.GetDriverByName("GTiff").Create(path, w, h, len(planes), dtype, options)
    ds.SetGeoTransform((600000.0, 10.0, 0.0, 4300000.0, 0.0, -10.0))
    ds.SetSpatialRef(srs())
    for i, p in enumerate(planes):
        b = ds.GetRasterBand(i + 1)
        b.WriteArray(p)
        if nodata is not None:
            b.SetNoDataValue(nodata)
    if overviews:
        ds.BuildOverviews("AVERAGE", [2])
    ds = None


def geotiff_seeds(out):
    rng = np.random.default_rng(7)
    dn = lambda h, w: rng.integers(0, 4000, (h, w)).astype(np.uint16)
    tif(f"{out}/s2_7band_tiled.tif", [dn(8, 8) for _ in range(6)] + [np.full((8, 8), 4, np.uint16)],
        gdal.GDT_UInt16, ["TILED=YES", "BLOCKXSIZE=16", "BLOCKYSIZE=16", "COMPRESS=DEFLATE"], nodata=0)
    tif(f"{out}/float_predictor.tif", [rng.random((12, 10)).astype(np.float32)], gdal.GDT_Float32,
        ["COMPRESS=DEFLATE", "PREDICTOR=3"], nodata=float("nan"))
    # Layouts io::DirectTiff reads itself (tiled, band-interleaved, DEFLATE, predictors 2 and 3):
    # geotiff_fuzz compares them with GDAL's reads.
    tif(f"{out}/s2_bands_tiled_predictor.tif", [dn(20, 18) for _ in range(6)] + [np.full((20, 18), 4, np.uint16)],
        gdal.GDT_UInt16, ["TILED=YES", "BLOCKXSIZE=16", "BLOCKYSIZE=16", "COMPRESS=DEFLATE", "PREDICTOR=2",
                          "INTERLEAVE=BAND"], nodata=0)
    tif(f"{out}/float_tiled_predictor.tif", [rng.random((20, 33)).astype(np.float32)], gdal.GDT_Float32,
        ["TILED=YES", "BLOCKXSIZE=16", "BLOCKYSIZE=16", "COMPRESS=DEFLATE", "PREDICTOR=3"], nodata=float("nan"))
    tif(f"{out}/byte_strips_lzw.tif", [rng.integers(0, 255, (9, 7)).astype(np.uint8) for _ in range(3)],
        gdal.GDT_Byte, ["COMPRESS=LZW", "INTERLEAVE=PIXEL"])
    tif(f"{out}/int16_overview.tif", [rng.integers(-500, 500, (16, 16)).astype(np.int16) for _ in range(2)],
        gdal.GDT_Int16, ["COMPRESS=DEFLATE"], nodata=-9999, overviews=True)


def zonal_partial_seeds(out, reclaim):
    with tempfile.TemporaryDirectory() as tmp:
        raster = f"{tmp}/r.tif"
        values = np.arange(64, dtype=np.float32).reshape(8, 8) / 64
        values[2, 3] = np.nan
        tif(raster, [values], gdal.GDT_Float32, [], nodata=float("nan"))
        zones = f"{tmp}/z.gpkg"
        ds = ogr.GetDriverByName("GPKG").CreateDataSource(zones)
        layer = ds.CreateLayer("z", srs(), ogr.wkbPolygon)
        layer.CreateField(ogr.FieldDefn("site_id", ogr.OFTString))
        for i, wkt in enumerate(["POLYGON((600005 4299995,600045 4299995,600045 4299955,600005 4299995))",
                                 "POLYGON((600030 4299970,600080 4299970,600080 4299920,600030 4299920,600030 4299970))"]):
            f = ogr.Feature(layer.GetLayerDefn())
            f.SetField("site_id", f"s{i}")
            f.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
            layer.CreateFeature(f)
        ds = None
        partial = f"{tmp}/p.bin"
        subprocess.run([reclaim, "zonal", "--raster", raster, "--zones", zones, "--id-field", "site_id",
                        "--stats", "count,mean,min,max", "--partial", partial, "--quiet"], stdout=subprocess.DEVNULL,
                       check=True)
        raw = open(partial, "rb").read()
    open(f"{out}/raw.bin", "wb").write(raw)
    # Framed as the target reads it: the header JSON, NUL, the accumulators (the target adds
    # the magic, version, length and header checksum).
    length = struct.unpack_from("<Q", raw, 8)[0]
    header, body = raw[16:16 + length], raw[16 + length + 64:]
    open(f"{out}/framed.bin", "wb").write(header + b"\0" + body)


def main():
    out, reclaim = sys.argv[1], sys.argv[2]
    for name in ("geotiff", "zonal_partial"):
        os.makedirs(f"{out}/{name}", exist_ok=True)
    geotiff_seeds(f"{out}/geotiff")
    zonal_partial_seeds(f"{out}/zonal_partial", reclaim)


if __name__ == "__main__":
    main()
