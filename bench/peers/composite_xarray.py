"""A median composite as a user would script it: odc-stac into xarray (dask), SCL mask, scale,
.median("time"), one GeoTIFF per band with rioxarray. The peer of `reclaim composite` in
bench/peers/compare_composite.sh (issue 11).

    composite_xarray.py ITEMS.json OUT_DIR [--bands blue,green,red,nir] [--chunk 2048]

Runs in the bench venv (bench/.venv-peers, made by compare_composite.sh) with these PyPI
versions, pinned there:
"""
PINS = ["odc-stac==0.5.3", "odc-geo==0.5.3", "odc-loader==0.6.5", "xarray==2026.9.0", "dask==2026.11.0",
        "rioxarray==0.19.0", "rasterio==1.4.4", "affine==2.4.0", "pystac==1.15.2", "numpy==2.4.6", "pandas==3.1.1"]
__doc__ += "\n".join(f"    {p}" for p in PINS) + "\n"

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("items")
    ap.add_argument("out")
    ap.add_argument("--bands", default="blue,green,red,nir")
    ap.add_argument("--chunk", type=int, default=2048, help="dask chunk side (odc-stac's documented 2048)")
    a = ap.parse_args()

    import dask
    import numpy as np
    import odc.stac
    import pystac
    import rioxarray  # noqa: F401  (the .rio accessor)

    t0 = time.perf_counter()
    bands = a.bands.split(",")
    items = pystac.ItemCollection.from_file(a.items)
    folder = os.path.dirname(os.path.abspath(a.items))
    for item in items:  # the hrefs are relative to the JSON file
        for asset in item.assets.values():
            if not os.path.isabs(asset.href):
                asset.href = os.path.normpath(os.path.join(folder, asset.href))

    # The scenes on the 10 m grid (scl, at 20 m, read with nearest), uint16, lazily in dask chunks.
    ds = odc.stac.load(items, bands=bands + ["scl"], resolution=10, groupby="solar_day",
                       chunks={"x": a.chunk, "y": a.chunk})
    # Cloud shadow, cloud medium/high probability, thin cirrus; nodata 0 per band.
    clear = ~ds.scl.isin([3, 8, 9, 10])
    refl = ds[bands].where(clear)
    refl = refl.where(refl != 0) * 0.0001  # Earth Search v1: BOA offset already applied
    median = refl.median("time", skipna=True)

    os.makedirs(a.out, exist_ok=True)
    writes = []
    for b in bands:
        da = median[b].rio.write_nodata(np.nan)
        writes.append(da.rio.to_raster(os.path.join(a.out, f"{b}.tif"), tiled=True, blockxsize=512, blockysize=512,
                                       compress="DEFLATE", predictor=3, lock=threading.Lock(), compute=False))
    dask.compute(*writes)  # one graph: each scene's SCL is read once for all bands
    print(f"composite_xarray: {len(items)} items, {ds.sizes['time']} days, {ds.sizes['y']} x {ds.sizes['x']}, "
          f"{time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
