"""Where one-zone-per-pixel tools differ from exact per-zone statistics: overlapping sites.

A 200 x 200 raster whose value is the column index (10 m pixels, EPSG:32649) and three sites:
A (columns 0-119), B (columns 60-179, overlapping A on columns 60-119) and C (columns 100-139,
rows 50-99, overlapping both). Closed-form truth for every site; reclaim zonal (center and exact)
against OTB ZonalStatistics (vector zones, rasterized internally to one label per pixel). GRASS
r.univar takes its zones as a raster map of zone ids, one per pixel, so it has the same limit
by construction (GRASS is not installed here, so it is not run).

usage: python3 zonal_overlap_peers.py --reclaim build/reclaim --out bench/results/zonal-overlap-peers.md
"""
import argparse
import csv
import os
import shutil
import subprocess
import tempfile

import numpy as np
from osgeo import gdal, ogr, osr

gdal.UseExceptions()
GT = (600000.0, 10.0, 0.0, 4300000.0, 0.0, -10.0)
SITES = {"A": (0, 120, 0, 200), "B": (60, 180, 0, 200), "C": (100, 140, 50, 100)}  # col0, col1, row0, row1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reclaim", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="overlap-")
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32649)
    value = np.tile(np.arange(200, dtype=np.float32), (200, 1))
    raster = os.path.join(work, "v.tif")
    ds = gdal.GetDriverByName("GTiff").Create(raster, 200, 200, 1, gdal.GDT_Float32)
    ds.SetGeoTransform(GT)
    ds.SetSpatialRef(srs)
    ds.GetRasterBand(1).WriteArray(value)
    ds = None
    sites = os.path.join(work, "sites.shp")  # OTB 8.1 reads shapefiles most reliably
    vds = ogr.GetDriverByName("ESRI Shapefile").CreateDataSource(sites)
    layer = vds.CreateLayer("sites", srs, ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("site_id", ogr.OFTString))
    truth = {}
    for sid, (c0, c1, r0, r1) in SITES.items():
        x0, x1 = GT[0] + c0 * 10, GT[0] + c1 * 10
        y0, y1 = GT[3] - r0 * 10, GT[3] - r1 * 10
        f = ogr.Feature(layer.GetLayerDefn())
        f.SetField("site_id", sid)
        f.SetGeometry(ogr.CreateGeometryFromWkt(f"POLYGON(({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0}))"))
        layer.CreateFeature(f)
        block = value[r0:r1, c0:c1].astype(np.float64)
        truth[sid] = (block.size, block.mean())
    vds = None

    rows = []
    for mode in ("center", "exact"):
        out = os.path.join(work, f"reclaim-{mode}.csv")
        subprocess.run([args.reclaim, "zonal", "--raster", raster, "--zones", sites, "--id-field", "site_id",
                        "--coverage", mode, "--stats", "count,mean", "--out", out, "--quiet"], check=True)
        with open(out) as f:
            for r in csv.DictReader(f):
                rows.append((f"reclaim {mode}", r["site_id"], float(r["v_count"]), float(r["v_mean"])))
    otb_out = os.path.join(work, "otb.shp")
    proc = subprocess.run(["otbcli_ZonalStatistics", "-in", raster, "-inzone", "vector", "-inzone.vector.in", sites,
                           "-out", "vector", "-out.vector.filename", otb_out], capture_output=True, text=True)
    otb_note = ""
    if proc.returncode == 0 and os.path.exists(otb_out):
        ods = ogr.Open(otb_out)
        olayer = ods.GetLayer(0)
        names = [olayer.GetLayerDefn().GetFieldDefn(i).GetName() for i in range(olayer.GetLayerDefn().GetFieldCount())]
        count_field = next((n for n in names if n.lower().startswith("count")), None)
        mean_field = next((n for n in names if n.lower().startswith("mean")), None)
        for f in olayer:
            count = float(f.GetField(count_field)) if count_field else float("nan")
            rows.append(("OTB ZonalStatistics", f.GetField("site_id"), count, float(f.GetField(mean_field))))
        otb_note = f"OTB output fields: {', '.join(names)}"
    else:
        otb_note = f"OTB ZonalStatistics failed (rc {proc.returncode}): {proc.stderr.strip().splitlines()[-1:]}"
    help_run = subprocess.run(["otbcli_ZonalStatistics", "-help"], capture_output=True, text=True)
    otb_version = help_run.stdout + help_run.stderr
    otb_version = next((l for l in otb_version.splitlines() if "version" in l), "").strip()

    lines = ["# Overlapping sites: exact per-zone statistics vs one-zone-per-pixel tools", "",
             "Produced by `python3 bench/peers/zonal_overlap_peers.py --reclaim build/reclaim --out "
             "bench/results/zonal-overlap-peers.md`.", "",
             "Raster: 200 x 200, value = column index, 10 m pixels. Sites: A = columns 0-119, B = columns 60-179 "
             "(A and B share columns 60-119), C = columns 100-139 x rows 50-99 (inside both), all full pixels, so "
             "center and exact coverage agree with the closed form.", "",
             f"- {otb_version}; {otb_note}",
             "- GRASS r.univar (zones= a raster of zone ids) is not installed here; a zone raster holds one id per "
             "pixel, so overlapping sites lose their shared pixels to one of them, like OTB.", "",
             "| tool | site | count | truth count | mean | truth mean | matches |", "| --- | --- | ---: | ---: | ---: | ---: | --- |"]
    for tool, sid, count, mean in rows:
        tc, tm = truth[sid]
        ok = abs(count - tc) < 1e-9 and abs(mean - tm) < 1e-9 if count == count else abs(mean - tm) < 1e-9
        lines.append(f"| {tool} | {sid} | {count:g} | {tc} | {mean:.4f} | {tm:.4f} | {'yes' if ok else 'NO'} |")
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
