"""The national report at scale: 3 025 sites (a 55 x 55 lattice of small pits over the demo pair,
four provinces) through plan, run and merge with 1 000 pictured sites. The page links its
pictures instead of embedding them and puts the site sections on one page per province, so
report.html keeps the tables (under 3 MB) and opens in headless Chromium with every site row,
the filter working on the URL, and no broken picture; so do the pages.

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
    pages_text = "".join(p.read_text() for p in sorted((national / "pages").glob("*.html")))
    linked = re.findall(r'<img src="\.\./(pictures/site-[^"]+\.png)"[^>]* loading="lazy">', pages_text)
    assert len(linked) == len(set(linked)) == 5 * 1000  # --pictures-max: the first 1 000 sites
    assert all((national / p).is_file() for p in linked)
    assert html.count("data:image/png") == 2 and "data:image/png" not in pages_text  # overview, legend
    # The site sections are on one page per province; report.html keeps the tables and links.
    size = (national / "report.html").stat().st_size
    assert size < 3e6, f"report.html is {size / 1e6:.1f} MB"
    assert html.count('<section class="site"') == 0
    pages = sorted((national / "pages").glob("region-*.html"))
    assert len(pages) == 4
    sections = 0
    for page in pages:
        text = page.read_text()
        sections += text.count('<section class="site"')
        for src in re.findall(r'<img src="(\.\./pictures/[^"]+)"', text):
            assert (page.parent / src).is_file(), src
    assert sections == SIDE * SIDE
    row_links = re.findall(r'<td data-sort="P\d{4}"><a href="(pages/region-\d{3}\.html)#site-P\d{4}">', html)
    assert len(row_links) == SIDE * SIDE and {national / p for p in row_links} == set(pages)
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
    page = sorted((national / "pages").glob("region-*.html"))[0]
    dom = browser.dump_dom(page)
    assert dom.count('<section class="site"') > 700 and 'data-images-broken="0"' in dom
