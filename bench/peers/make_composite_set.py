#!/usr/bin/python3
"""A season of Sentinel-2 L2A scenes for the composite benchmark (issue 11), in Earth Search v1 form.

    make_composite_set.py OUT_DIR [--size 10980] [--scenes 20] [--cloud 30] [--seed 11]

Writes, per scene (one MGRS-like tile, every scene on the same 10 m UTM grid, 5 days apart,
platforms alternating sentinel-2a / sentinel-2b):

- blue, green, red, nir: SIZE x SIZE uint16 COGs at 10 m (GDAL COG driver, DEFLATE with the
  horizontal predictor, 1024 x 1024 blocks, no overviews), nodata 0;
- swir16, swir22: SIZE/2 x SIZE/2 uint16 COGs at 20 m, as Earth Search serves them (reclaim's
  STAC reader needs all six bands in every item, docs/inventories.md, so the items carry them;
  the composite of the benchmark writes the four 10 m bands);
- scl: SIZE/2 x SIZE/2 uint8 COG at 20 m (the SCL is a 20 m product), classes 4 vegetation,
  5 bare, 6 water, 7 unclassified, and the masked classes 3 (cloud shadow), 8, 9 (cloud medium /
  high probability) and 10 (thin cirrus) as contiguous blobs: CLOUD percent of each scene
  (default 30) is masked (clouds + cirrus + their shadows).

and OUT_DIR/items.json: a STAC ItemCollection (Earth Search v1 form: lower-case asset keys,
eo:bands common names, raster:bands nodata 0, scale 0.0001, offset -0.1,
earthsearch:boa_offset_applied true, so reflectance = DN x 1e-4), hrefs relative to OUT_DIR.

DNs: a fixed landscape (vegetation, bare ground, water, smooth at ~200 m) per band with a
seasonal greening and per-scene noise, in Sentinel-2 L2A ranges (after BOA_ADD_OFFSET: clear
land 200..5000); cloudy pixels are bright (3000..9000), shadows dark. No DN is 0 (no nodata
inside the tile), so every tool's mask is the SCL's.

Existing files are kept when OUT_DIR/items.json says the set was made with the same
parameters (delete the folder to remake it).
"""
import argparse
import datetime as dt
import json
import os
import sys
import time

import numpy as np
from osgeo import gdal, osr

gdal.UseExceptions()

BANDS10 = [("blue", "B02"), ("green", "B03"), ("red", "B04"), ("nir", "B08")]
BANDS20 = [("swir16", "B11"), ("swir22", "B12")]
EPSG = 32755  # UTM 55S (an Australian tile, T55HFA-like)
ORIGIN = (600000.0, 6100000.0)
# Land-cover DN means (after Earth Search's BOA offset) per band: vegetation, bare, water.
MEANS = {"blue": (350, 1100, 500), "green": (650, 1400, 600), "red": (400, 1900, 400),
         "nir": (3500, 2400, 250), "swir16": (1700, 3100, 150), "swir22": (900, 2600, 100)}
COG_OPTIONS = ["COMPRESS=DEFLATE", "PREDICTOR=YES", "BLOCKSIZE=1024", "OVERVIEWS=NONE", "NUM_THREADS=ALL_CPUS",
               "BIGTIFF=IF_SAFER"]


def smooth_field(rng, size, cell, low=None):
    """A smooth random field in [0, 1) of size x size: noise on a grid of `cell` pixels, upsampled
    bilinearly by GDAL (contiguous blobs, not speckle)."""
    n = max(2, size // cell + 2)
    if low is None:
        low = rng.random((n, n), dtype=np.float32)
    mem = gdal.GetDriverByName("MEM").Create("", n, n, 1, gdal.GDT_Float32)
    mem.GetRasterBand(1).WriteArray(low)
    up = gdal.Translate("", mem, format="MEM", width=size, height=size, resampleAlg="bilinear")
    return up.GetRasterBand(1).ReadAsArray()


def write_cog(path, array, gt, nodata):
    ds = gdal.GetDriverByName("MEM").Create("", array.shape[1], array.shape[0], 1,
                                            gdal.GDT_UInt16 if array.dtype == np.uint16 else gdal.GDT_Byte)
    ds.SetGeoTransform(gt)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(EPSG)
    ds.SetSpatialRef(srs)
    band = ds.GetRasterBand(1)
    band.WriteArray(array)
    if nodata is not None:
        band.SetNoDataValue(nodata)
    gdal.GetDriverByName("COG").CreateCopy(str(path), ds, options=COG_OPTIONS)


def cloud_scl(rng, size, cloud_pct):
    """SCL at size x size (20 m): clouds (8, 9), cirrus (10) and shadows (3) as blobs covering
    cloud_pct percent; clear classes elsewhere (filled in by the caller)."""
    field = smooth_field(rng, size, max(4, size // 24))
    cirrus_field = smooth_field(rng, size, max(4, size // 16))
    scl = np.zeros((size, size), np.uint8)
    # Clouds: the top share of the field; shadows: the cloud blobs shifted by ~1.5 km (75 px at
    # 20 m, scaled with the tile) where not cloud; cirrus: a thinner layer of its own.
    share = cloud_pct / 100.0
    cloud = field >= np.quantile(field, 1.0 - 0.70 * share)
    shift = max(1, size * 75 // 5490)
    shadow = np.zeros_like(cloud)
    shadow[shift:, shift:] = cloud[:-shift, :-shift]
    shadow &= ~cloud
    cirrus = (cirrus_field >= np.quantile(cirrus_field, 1.0 - 0.12 * share)) & ~cloud & ~shadow
    masked_so_far = np.count_nonzero(cloud | shadow | cirrus) / cloud.size
    # Top up (or trim) with more cirrus so the masked share is cloud_pct.
    if masked_so_far < share:
        free = ~(cloud | shadow | cirrus)
        need = share - masked_so_far
        cut = np.quantile(cirrus_field[free], 1.0 - min(1.0, need / max(free.mean(), 1e-9)))
        cirrus |= free & (cirrus_field >= cut)
    high = field >= np.quantile(field, 1.0 - 0.35 * share)
    scl[cloud] = 8
    scl[cloud & high] = 9
    scl[cirrus] = 10
    scl[shadow] = 3
    return scl


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--size", type=int, default=10980, help="10 m side in pixels (even; default 10980, one S2 tile)")
    ap.add_argument("--scenes", type=int, default=20)
    ap.add_argument("--cloud", type=float, default=30.0, help="masked percent of each scene's SCL (default 30)")
    ap.add_argument("--seed", type=int, default=11)
    a = ap.parse_args()
    if a.size % 2 or a.size < 64:
        sys.exit("--size must be even and >= 64")
    out = os.path.abspath(a.out)
    os.makedirs(out, exist_ok=True)
    items_path = os.path.join(out, "items.json")
    params = {"size": a.size, "scenes": a.scenes, "cloud": a.cloud, "seed": a.seed, "version": 1}
    if os.path.exists(items_path):
        with open(items_path) as f:
            if json.load(f).get("reclaim:bench", {}) == params:
                print(f"make_composite_set: {items_path} exists with these parameters; kept", file=sys.stderr)
                return 0

    t0 = time.perf_counter()
    rng = np.random.default_rng(a.seed)
    s10, s20 = a.size, a.size // 2
    gt10 = (ORIGIN[0], 10.0, 0.0, ORIGIN[1], 0.0, -10.0)
    gt20 = (ORIGIN[0], 20.0, 0.0, ORIGIN[1], 0.0, -20.0)
    # The landscape at 20 m (land cover is smooth at ~200 m and above), replicated to 10 m.
    cover_field = smooth_field(rng, s20, max(4, s20 // 40))
    water_field = smooth_field(rng, s20, max(4, s20 // 12))
    cover20 = np.where(cover_field < 0.5, 0, 1).astype(np.uint8)  # 0 vegetation, 1 bare
    cover20[water_field > np.quantile(water_field, 0.97)] = 2  # 3 % water
    cover10 = np.repeat(np.repeat(cover20, 2, axis=0), 2, axis=1)
    texture10 = (smooth_field(rng, s10, 8) - 0.5).astype(np.float32)  # field-scale texture, +-0.5

    start = dt.datetime(2019, 6, 1, 0, 12, 31, tzinfo=dt.timezone.utc)
    items = []
    tile = "55HFA"
    for k in range(a.scenes):
        when = start + dt.timedelta(days=5 * k)
        platform = "sentinel-2a" if k % 2 == 0 else "sentinel-2b"
        item_id = f"S2{'A' if k % 2 == 0 else 'B'}_{tile}_{when:%Y%m%d}_0_L2A"
        greening = 1.0 + 0.25 * np.sin(np.pi * k / max(1, a.scenes - 1))  # the season
        scl20 = cloud_scl(rng, s20, a.cloud)
        clear20 = scl20 == 0
        scl20[clear20] = np.array([4, 5, 6], np.uint8)[cover20[clear20]]
        scl20[clear20 & (rng.random((s20, s20), dtype=np.float32) < 0.005)] = 7  # unclassified specks
        masked10 = np.repeat(np.repeat(np.isin(scl20, (3, 8, 9, 10)), 2, axis=0), 2, axis=1)
        cloud10 = np.repeat(np.repeat(np.isin(scl20, (8, 9, 10)), 2, axis=0), 2, axis=1)
        assets = {}
        for key, s2name, size, gt, cover, in [(b, n, s10, gt10, cover10) for b, n in BANDS10] + \
                                              [(b, n, s20, gt20, cover20) for b, n in BANDS20]:
            veg, bare, water = MEANS[key]
            if key == "nir":
                veg = veg * greening
            mean = np.array([veg, bare, water], np.float32)[cover]
            tex = texture10 if size == s10 else texture10[::2, ::2]
            dn = mean * (1.0 + 0.35 * tex) + rng.normal(0.0, 0.04, (size, size)).astype(np.float32) * mean
            if size == s10:
                cl, ms = cloud10, masked10
            else:
                ms = np.isin(scl20, (3, 8, 9, 10))
                cl = np.isin(scl20, (8, 9, 10))
            dn = np.where(cl, 3000.0 + 6000.0 * rng.random((size, size), dtype=np.float32), dn)
            dn = np.where(ms & ~cl, dn * 0.35, dn)  # shadows
            dn = np.clip(np.rint(dn), 1, 65534).astype(np.uint16)
            name = f"{item_id}_{key}.tif"
            write_cog(os.path.join(out, name), dn, gt, 0)
            res = 10 if size == s10 else 20
            assets[key] = {"href": f"./{name}", "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                           "title": f"{key} ({s2name}) - {res}m", "roles": ["data", "reflectance"],
                           "gsd": res, "eo:bands": [{"name": s2name, "common_name": key}],
                           "proj:shape": [size, size], "proj:transform": list(gt[1:3]) + [gt[0]] + list(gt[4:6]) + [gt[3]],
                           "raster:bands": [{"nodata": 0, "data_type": "uint16", "bits_per_sample": 15,
                                             "spatial_resolution": res, "scale": 0.0001, "offset": -0.1}]}
        name = f"{item_id}_scl.tif"
        write_cog(os.path.join(out, name), scl20, gt20, 0)
        assets["scl"] = {"href": f"./{name}", "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                         "title": "Scene classification map (SCL)", "roles": ["data", "reflectance"], "gsd": 20,
                         "proj:shape": [s20, s20],
                         "proj:transform": list(gt20[1:3]) + [gt20[0]] + list(gt20[4:6]) + [gt20[3]],
                         "raster:bands": [{"nodata": 0, "data_type": "uint8", "spatial_resolution": 20}]}
        masked_pct = 100.0 * np.count_nonzero(np.isin(scl20, (3, 8, 9, 10))) / scl20.size
        x0, y0 = gt10[0], gt10[3]
        x1, y1 = x0 + 10.0 * s10, y0 - 10.0 * s10
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(EPSG)
        wgs = osr.SpatialReference()
        wgs.ImportFromEPSG(4326)
        wgs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        ct = osr.CoordinateTransformation(srs, wgs)
        corners = [ct.TransformPoint(x, y)[:2] for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))]
        lons, lats = [c[0] for c in corners], [c[1] for c in corners]
        items.append({
            "type": "Feature", "stac_version": "1.0.0", "id": item_id, "collection": "sentinel-2-l2a",
            "stac_extensions": ["https://stac-extensions.github.io/eo/v1.1.0/schema.json",
                                "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
                                "https://stac-extensions.github.io/projection/v1.1.0/schema.json"],
            "bbox": [min(lons), min(lats), max(lons), max(lats)],
            "geometry": {"type": "Polygon", "coordinates": [[list(c) for c in corners + corners[:1]]]},
            "properties": {"datetime": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "platform": platform,
                           "constellation": "sentinel-2", "instruments": ["msi"], "gsd": 10,
                           "eo:cloud_cover": round(masked_pct, 3), "proj:epsg": EPSG, "mgrs:utm_zone": 55,
                           "mgrs:latitude_band": "H", "mgrs:grid_square": "FA",
                           "s2:processing_baseline": "02.12", "earthsearch:boa_offset_applied": True},
            "assets": assets, "links": []})
        print(f"make_composite_set: {item_id}: {masked_pct:.1f} % masked ({time.perf_counter() - t0:.0f} s)",
              file=sys.stderr)
    with open(items_path, "w") as f:
        json.dump({"type": "FeatureCollection", "features": items, "reclaim:bench": params}, f, indent=1)
    print(f"make_composite_set: {a.scenes} scenes of {s10} x {s10} in {out} ({time.perf_counter() - t0:.0f} s)",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
