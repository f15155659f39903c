#!/usr/bin/python3
"""Zone layers for bench/peers/compare_zonal.sh, both in the value raster's CRS (EPSG:32649).

    zonal_make_sites.py --raster NDVI.tif --sites SITES.gpkg --real N --random M --out-dir DIR

Writes DIR/sites-<N>.gpkg: the first N features (by fid) of SITES (EPSG:4326, layer "sites",
field "site_id") reprojected to the raster's CRS, since exactextract does not reproject; and
DIR/random-<M>.gpkg: M random noisy ellipses (12-40 vertices, 30-400 m across, seed 20260101)
placed wholly inside the raster's extent, site_id "R000001".... Both layers are named "sites".
The vertices of a noisy ellipse are taken at increasing angles around its centre, so every
polygon is star-shaped about it and therefore simple (valid).
"""
import argparse
import math
import os

import numpy as np
from osgeo import gdal, ogr, osr

gdal.UseExceptions()
ogr.UseExceptions()


def create(path, srs):
    if os.path.exists(path):
        os.remove(path)
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(path)
    lyr = ds.CreateLayer("sites", srs, ogr.wkbMultiPolygon)
    lyr.CreateField(ogr.FieldDefn("site_id", ogr.OFTString))
    return ds, lyr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raster", required=True)
    ap.add_argument("--sites", required=True)
    ap.add_argument("--real", type=int, default=300)
    ap.add_argument("--random", type=int, default=20000)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--seed", type=int, default=20260101)
    a = ap.parse_args()

    r = gdal.Open(a.raster)
    gt = r.GetGeoTransform()
    x0, y1 = gt[0], gt[3]
    x1, y0 = x0 + gt[1] * r.RasterXSize, y1 + gt[5] * r.RasterYSize
    dst = osr.SpatialReference(wkt=r.GetProjection())
    dst.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)

    # Real sites, reprojected.
    src_ds = ogr.Open(a.sites)
    src = src_ds.GetLayerByName("sites")
    src_srs = src.GetSpatialRef().Clone()
    src_srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    ct = osr.CoordinateTransformation(src_srs, dst)
    ds, lyr = create(os.path.join(a.out_dir, f"sites-{a.real}.gpkg"), dst)
    lyr.StartTransaction()
    n = 0
    for f in sorted(src, key=lambda f: f.GetFID()):
        if n == a.real:
            break
        g = f.GetGeometryRef().Clone()
        g.Transform(ct)
        g = ogr.ForceToMultiPolygon(g)
        o = ogr.Feature(lyr.GetLayerDefn())
        o.SetField("site_id", f.GetField("site_id"))
        o.SetGeometry(g)
        lyr.CreateFeature(o)
        n += 1
    lyr.CommitTransaction()
    ds = None
    if n < a.real:
        raise SystemExit(f"{a.sites}: only {n} sites, {a.real} asked for")

    # Random noisy ellipses.
    rng = np.random.default_rng(a.seed)
    ds, lyr = create(os.path.join(a.out_dir, f"random-{a.random}.gpkg"), dst)
    lyr.StartTransaction()
    margin = 250.0  # > the largest semi-axis times the largest noise factor
    for i in range(a.random):
        cx = rng.uniform(x0 + margin, x1 - margin)
        cy = rng.uniform(y0 + margin, y1 - margin)
        across = rng.uniform(30.0, 400.0)
        ax = across / 2
        by = ax * rng.uniform(0.4, 1.0)
        rot = rng.uniform(0, math.pi)
        nv = int(rng.integers(12, 41))
        ang = np.sort(rng.uniform(0, 2 * math.pi, nv))
        noise = rng.uniform(0.85, 1.15, nv)
        px = ax * noise * np.cos(ang)
        py = by * noise * np.sin(ang)
        xs = cx + px * math.cos(rot) - py * math.sin(rot)
        ys = cy + px * math.sin(rot) + py * math.cos(rot)
        ring = ogr.Geometry(ogr.wkbLinearRing)
        for x, y in zip(xs, ys):
            ring.AddPoint_2D(float(x), float(y))
        ring.AddPoint_2D(float(xs[0]), float(ys[0]))
        poly = ogr.Geometry(ogr.wkbPolygon)
        poly.AddGeometry(ring)
        o = ogr.Feature(lyr.GetLayerDefn())
        o.SetField("site_id", f"R{i + 1:06d}")
        o.SetGeometry(ogr.ForceToMultiPolygon(poly))
        lyr.CreateFeature(o)
    lyr.CommitTransaction()
    ds = None


if __name__ == "__main__":
    main()
