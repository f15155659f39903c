"""The national report at scale: 3 025 sites (a 55 x 55 lattice of small pits over the demo pair,
four provinces) through plan, run and merge with 1 000 pictured sites. The page links its
pictures instead of embedding them, stays a few MB, and opens in headless Chromium with every
site row, the filter working on the URL, and no broken picture.

How long it takes to open is measured in bench/peers/report_open.sh, not here."""
import json
import re

import pytest
from osgeo import gdal, ogr, osr

import browser
from conftest import run_reclaim

gdal.UseExceptions()
ogr.UseExceptions()
SIDE = 55  # sites per row and column


@pytest.fixture(scope="module")
def national(reclaim_bin, tmp_path_factory):
    root = tmp_path_factory.mktemp("national_report")
    run_reclaim(reclaim_bin, "synth", "--out", root / "data", "--width", "1100", "--height", "1100")
    scene = gdal.Open(str(root / "data" / "2019.tif"))
    x0, dx, _, y0, _, dy = scene.GetGeoTransform()
    srs = osr.SpatialReference(wkt=scene.GetProjection())
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(root / "pits.gpkg"))
    layer = ds.CreateLayer("pits", srs, ogr.wkbPolygon)
    for name in ("site_id", "province"):
        layer.CreateField(ogr.FieldDefn(name, ogr.OFTString))
    for row in range(SIDE):
        for col in range(SIDE):
            # A 7 x 7 px pit every 20 px, from 5 px in.
            px, py = 5 + col * 20, 5 + row * 20
            ax, ay = x0 + px * dx, y0 + py * dy
            bx, by = ax + 7 * dx, ay + 7 * dy
            f = ogr.Feature(layer.GetLayerDefn())
            f.SetField("site_id", f"P{row:02d}{col:02d}")
            f.SetField("province", ("North" if row < SIDE // 2 else "South") + ("west" if col < SIDE // 2 else "east"))
            f.SetGeometry(ogr.CreateGeometryFromWkt(f"POLYGON(({ax} {ay},{bx} {ay},{bx} {by},{ax} {by},{ax} {ay}))"))
            layer.CreateFeature(f)
    ds = None
    job = root / "national.toml"
    job.write_text('before = "data/2019.tif"\nafter = "data/2025.tif"\nsites = "pits.gpkg"\nid-field = "site_id"\n'
                   'sensor = "sentinel2-l2a"\nregion-field = "province"\nunit-size = 512\n')
    run_dir = root / "run"
    run_reclaim(reclaim_bin, "plan", job, "--out", run_dir, "--quiet")
    run_reclaim(reclaim_bin, "run", run_dir, "--quiet")
    run_reclaim(reclaim_bin, "merge", run_dir, "--quiet")
    return run_dir


def test_the_page_links_its_pictures_and_stays_small(national):
    html = (national / "report.html").read_text()
    assert html.count('class="site-row"') == SIDE * SIDE
    linked = re.findall(r'<img src="(pictures/site-[^"]+\.png)"[^>]* loading="lazy">', html)
    assert len(linked) == 5 * 1000  # --pictures-max: the first 1 000 sites
    assert all((national / p).is_file() for p in linked)
    assert html.count("data:image/png") == 2  # the overview and the legend
    size = (national / "report.html").stat().st_size
    assert size < 12e6, f"report.html is {size / 1e6:.1f} MB"
    summary = json.loads((national / "summary.json").read_text())
    assert sorted(summary["regions"]["totals"]) == ["Northeast", "Northwest", "Southeast", "Southwest"]
    assert sum(t["sites"] for t in summary["regions"]["totals"].values()) == SIDE * SIDE


def test_the_page_opens_in_chromium_with_every_row_and_the_filter(national):
    if browser.find_chromium() is None:
        pytest.fail("chromium not found: scripts/setup.sh installs Debian's chromium")
    dom = browser.dump_dom(national / "report.html", fragment="region=Southeast")
    assert dom.count('class="site-row"') == SIDE * SIDE
    southeast = (SIDE - SIDE // 2) ** 2
    assert f'data-visible-sites="{southeast}"' in dom
    assert 'data-images-broken="0"' in dom
