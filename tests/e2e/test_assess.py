"""reclaim assess end to end on the demo data: per-site metrics against an independent
numpy/GDAL computation from the written class and NDVI rasters (GDAL-rasterized site masks),
the pictures (size, georeferenced extent, colours equal to the class raster's colour table),
the report in a real browser (Debian's chromium, headless), the manifest's checksums, job
files, and bad input."""
import csv
import hashlib
import json
import math
import re

import numpy as np
import pytest
from osgeo import gdal, ogr, osr

import browser
from conftest import run_reclaim
from test_zonal_outputs import rasterize_masks

gdal.UseExceptions()
VEGETATED = 0.4  # the default rules' ndvi_vegetated
RATES = (1.0, 2.0, 3.0)
PICTURE_SIZE = 96  # small enough that the bigger demo sites are decimated (step > 1)
CLASSES = {"still_bare_ha": 1, "revegetated_ha": 2, "partial_recovery_ha": 3, "stable_vegetation_ha": 4,
           "newly_disturbed_ha": 5, "water_ha": 6, "unclassified_ha": 255, "no_data_ha": 0}


def num(text):
    return float(text) if text not in ("", None) else float("nan")


@pytest.fixture(scope="module")
def demo(reclaim_bin, tmp_path_factory):
    root = tmp_path_factory.mktemp("assess")
    run_reclaim(reclaim_bin, "synth", "--out", root / "demo", "--width", "700", "--height", "650")
    return root / "demo"


@pytest.fixture(scope="module")
def assessed(reclaim_bin, demo):
    out = demo.parent / "out"
    run_reclaim(reclaim_bin, "assess", "--before", demo / "2019.tif", "--after", demo / "2025.tif", "--sites",
                demo / "sites.gpkg", "--id-field", "site_id", "--coverage", "center", "--region-field", "status",
                "--picture-size", PICTURE_SIZE, "--out", out, "--quiet")
    return out


def read_sites(path):
    with open(path) as f:
        return {row["site_id"]: row for row in csv.DictReader(f)}


def test_outputs_exist_and_rasters_are_cogs(assessed):
    for name in ("change_class.tif", "dndvi.tif", "2019_ndvi.tif", "2025_ndvi.tif", "sites.csv", "sites.gpkg",
                 "summary.json", "report.html", "manifest.json", "pictures/overview.png", "pictures/legend.png"):
        assert (assessed / name).is_file(), name
    info = gdal.Info(str(assessed / "change_class.tif"), format="json")
    assert info["metadata"]["IMAGE_STRUCTURE"]["LAYOUT"] == "COG"
    assert not list(assessed.glob(".*")), "no hidden temporaries left"


def test_site_metrics_match_numpy(assessed, demo):
    sites = read_sites(assessed / "sites.csv")
    ds = gdal.Open(str(assessed / "change_class.tif"))
    classes = ds.ReadAsArray()
    gt = ds.GetGeoTransform()
    ndvi_b = gdal.Open(str(assessed / "2019_ndvi.tif")).ReadAsArray().astype(np.float64)
    ndvi_a = gdal.Open(str(assessed / "2025_ndvi.tif")).ReadAsArray().astype(np.float64)
    dndvi = gdal.Open(str(assessed / "dndvi.tif")).ReadAsArray().astype(np.float64)
    masks = rasterize_masks(demo / "sites.gpkg", classes.shape, gt)
    assert set(masks) == set(sites)
    pixel_ha = abs(gt[1] * gt[5]) / 1e4
    checked = 0
    for site, mask in masks.items():
        row = sites[site]
        n = int(mask.sum())
        assert num(row["area_ha"]) == pytest.approx(n * pixel_ha, abs=1e-9)
        counts = np.bincount(classes[mask], minlength=256)
        for column, value in CLASSES.items():
            assert num(row[column]) == pytest.approx(counts[value] * pixel_ha, abs=1e-9), (site, column)
        if n == 0:
            assert row["grade"] == "n/a" and "outside the scenes" in row["flags"]
            continue
        valid = n - counts[0]
        assert num(row["valid_fraction"]) == pytest.approx(valid / n, abs=1e-12)
        for col, plane in (("before", ndvi_b), ("after", ndvi_a)):
            v = plane[mask]
            v = v[np.isfinite(v)]
            assert num(row[f"cover_{col}_pct"]) == pytest.approx(100 * np.mean(v >= VEGETATED), abs=1e-9)
            assert num(row[f"ndvi_{col}_mean"]) == pytest.approx(v.mean(), abs=1e-6)
            assert abs(num(row[f"ndvi_{col}_median"]) - np.percentile(v, 50, method="inverted_cdf")) <= 2 / 1024 + 1e-9
        d = dndvi[mask]
        assert num(row["dndvi_mean"]) == pytest.approx(d[np.isfinite(d)].mean(), abs=1e-6)
        assert row["trend_ndvi_slope_per_yr"] == "" and num(row["trend_epochs"]) == 2  # no --epoch
        reveg = counts[2] * pixel_ha
        for k, name in enumerate(("carbon_low_tC", "carbon_central_tC", "carbon_high_tC")):
            assert num(row[name]) == pytest.approx(reveg * 6 * RATES[k], abs=1e-6)
        # The documented default grade table, recomputed (docs/metrics.md).
        cover_after, gain = num(row["cover_after_pct"]), num(row["cover_gain_pp"])
        bare_pct = 100 * counts[1] / valid
        if valid / n < 0.5:
            expected = "n/a"
        elif cover_after >= 60 and bare_pct <= 10:
            expected = "A"
        elif cover_after >= 40 and bare_pct <= 25:
            expected = "B"
        elif gain >= 10:
            expected = "C"
        elif gain >= 1:
            expected = "D"
        else:
            expected = "E"
        assert row["grade"] == expected, site
        assert ("new disturbance inside the site" in row["flags"]) == (counts[5] * pixel_ha >= 0.1)
        checked += 1
    assert checked >= 3


def test_summary_totals_and_regions(assessed):
    summary = json.load(open(assessed / "summary.json"))
    sites = read_sites(assessed / "sites.csv")
    totals = summary["totals"]
    assert totals["sites"] == len(sites)
    assert totals["revegetated_ha"] == pytest.approx(sum(num(r["revegetated_ha"]) for r in sites.values()), rel=1e-12)
    assert sum(totals["grades"].values()) == len(sites)
    assert summary["years"] == 6
    regions = summary["regions"]["totals"]
    assert sum(t["sites"] for t in regions.values()) == len(sites)
    for status, t in regions.items():
        expect = sum(num(r["area_ha"]) for r in sites.values() if r["status"] == status)
        assert t["area_ha"] == pytest.approx(expect, rel=1e-12)


def test_gpkg_has_geometries_and_metrics(assessed, demo):
    ds = ogr.Open(str(assessed / "sites.gpkg"))
    layer = ds.GetLayer(0)
    sites = read_sites(assessed / "sites.csv")
    assert layer.GetFeatureCount() == len(sites)
    for f in layer:
        row = sites[f.GetField("site_id")]
        assert f.GetField("grade") == row["grade"]
        if row["revegetated_ha"]:
            assert f.GetField("revegetated_ha") == float(row["revegetated_ha"])


def crop_window(bbox_px, width, height, picture_size=PICTURE_SIZE):
    """The documented picture window: site bbox + max(8 px, 15 %) margin, clipped; decimated."""
    x0, x1, y0, y1 = bbox_px
    margin = max(8.0, 0.15 * max(x1 - x0, y1 - y0))
    cx0, cy0 = max(0, math.floor(x0 - margin)), max(0, math.floor(y0 - margin))
    cx1, cy1 = min(width, math.ceil(x1 + margin)), min(height, math.ceil(y1 + margin))
    step = max(1, -(-max(cx1 - cx0, cy1 - cy0) // picture_size))
    return cx0, cy0, cx1, cy1, step


def test_pictures_extent_and_colours(assessed, demo):
    ds = gdal.Open(str(assessed / "change_class.tif"))
    classes = ds.ReadAsArray()
    gt = ds.GetGeoTransform()
    ct = ds.GetRasterBand(1).GetColorTable()
    srs = osr.SpatialReference(wkt=ds.GetProjection())
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    src = ogr.Open(str(demo / "sites.gpkg"))
    layer = src.GetLayer(0)
    layer_srs = layer.GetSpatialRef()
    layer_srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    transform = osr.CoordinateTransformation(layer_srs, srs)
    report = json.load(open(assessed / "summary.json"))
    assert report["totals"]["sites"] >= 1
    seen = 0
    steps = []
    for index, feature in enumerate(layer):
        geom = feature.GetGeometryRef().Clone()
        geom.Transform(transform)
        minx, maxx, miny, maxy = geom.GetEnvelope()
        px = ((minx - gt[0]) / gt[1], (maxx - gt[0]) / gt[1], (maxy - gt[3]) / gt[5], (miny - gt[3]) / gt[5])
        cx0, cy0, cx1, cy1, step = crop_window(px, ds.RasterXSize, ds.RasterYSize)
        stem = assessed / "pictures" / f"site-{index + 1:05d}"
        if cx1 <= cx0 or cy1 <= cy0:
            assert not (stem.parent / (stem.name + "_change.png")).exists()
            continue
        w, h = -(-(cx1 - cx0) // step), -(-(cy1 - cy0) // step)
        for suffix in ("before_rgb", "after_rgb", "ndvi_before", "ndvi_after", "change"):
            pic = gdal.Open(str(stem) + f"_{suffix}.png")
            assert (pic.RasterXSize, pic.RasterYSize, pic.RasterCount) == (w, h, 4), suffix
            pgt = pic.GetGeoTransform()
            # The georeferenced extent is the site's bounding box plus the margin.
            assert pgt[0] == pytest.approx(gt[0] + cx0 * gt[1]) and pgt[3] == pytest.approx(gt[3] + cy0 * gt[5])
            assert pgt[1] == pytest.approx(gt[1] * step) and pgt[5] == pytest.approx(gt[5] * step)
            assert pgt[0] <= minx and pgt[0] + pgt[1] * w >= maxx - abs(gt[1]) * step
            assert pgt[3] >= maxy and pgt[3] + pgt[5] * h <= miny + abs(gt[5]) * step
        # Every pixel of the change picture has the class raster's colour-table colour.
        rgba = gdal.Open(str(stem) + "_change.png").ReadAsArray()
        sampled = classes[cy0:cy1:step, cx0:cx1:step]
        for value in np.unique(sampled):
            where = sampled == value
            if value == 0:
                assert (rgba[3][where] == 0).all()
                continue
            entry = ct.GetColorEntry(int(value))
            for band in range(3):
                assert (rgba[band][where] == entry[band]).all(), (value, band)
        seen += 1
        steps.append(step)
    assert seen >= 3
    assert max(steps) > 1 and min(steps) == 1, steps  # both sampled and full-resolution pictures
    # The legend's swatches are the colour table's colours (layout: 2 px padding, 20 px swatch, 4 px gap).
    legend = gdal.Open(str(assessed / "pictures" / "legend.png")).ReadAsArray()
    names = ds.GetRasterBand(1).GetCategoryNames()
    swatch = 0
    for value in range(1, len(names)):
        if not names[value]:
            continue
        y, x = 2 + swatch * 24 + 10, 2 + 10
        assert tuple(legend[:3, y, x]) == tuple(ct.GetColorEntry(value)[:3]), names[value]
        swatch += 1


def test_report_in_headless_chromium(assessed, tmp_path):
    if browser.find_chromium() is None:
        pytest.fail("chromium not found: scripts/setup.sh installs Debian's chromium")
    sites = read_sites(assessed / "sites.csv")
    dom = browser.dump_dom(assessed / "report.html")
    assert dom.count('class="site-row"') == len(sites)
    for site in sites:
        assert f'data-site-id="{site}"' in dom
    loaded = int(re.search(r'data-images-loaded="(\d+)"', dom).group(1))
    broken = int(re.search(r'data-images-broken="(\d+)"', dom).group(1))
    pictures = len(list((assessed / "pictures").glob("site-*.png")))
    thumbs = (assessed / "report.html").read_text().count('<img class="thumb"')  # the two lists' pictures
    assert broken == 0 and loaded == pictures + 2 + thumbs and thumbs > 0  # + overview and legend
    shot = tmp_path / "report.png"
    browser.screenshot(assessed / "report.html", shot)
    img = gdal.Open(str(shot))
    assert img.RasterXSize > 0 and img.ReadAsArray().std() > 0  # something was drawn
    html = (assessed / "report.html").read_text()
    assert "src=\"pictures/" not in html and "http://" not in html and "https://" not in html  # self-contained


def visible_rows(dom):
    """Site ids of the table rows the filter left visible (a hidden row has the hidden attribute)."""
    rows = re.findall(r'<tr class="site-row" data-site-id="([^"]*)"([^>]*)>', dom)
    return {site for site, attrs in rows if "hidden" not in attrs}


def test_report_filter_regions_colour_bar_and_manifest_link_in_chromium(assessed):
    """The filter applied from the URL (#grade=..., #region=...&flagged=1) in a real browser shows
    exactly the sites.csv rows that match; the totals per region in the page are summary.json's;
    each NDVI picture has its colour bar; the run section links the manifest."""
    if browser.find_chromium() is None:
        pytest.fail("chromium not found: scripts/setup.sh installs Debian's chromium")
    sites = read_sites(assessed / "sites.csv")
    report = assessed / "report.html"
    assert visible_rows(browser.dump_dom(report)) == set(sites)
    grade = max({r["grade"] for r in sites.values()}, key=lambda g: sum(r["grade"] == g for r in sites.values()))
    dom = browser.dump_dom(report, fragment=f"grade={grade}")
    expect = {s for s, r in sites.items() if r["grade"] == grade}
    assert visible_rows(dom) == expect and 0 < len(expect) < len(sites)
    assert f'data-visible-sites="{len(expect)}"' in dom
    flagged = {s for s, r in sites.items() if r["flags"]}
    status = max({r["status"] for r in sites.values()}, key=lambda v: sum(r["status"] == v for r in sites.values()))
    dom = browser.dump_dom(report, fragment=f"region={status}&flagged=1")
    assert visible_rows(dom) == {s for s in flagged if sites[s]["status"] == status}
    # A hidden row's site section is hidden too.
    hidden = set(sites) - visible_rows(dom)
    for site in hidden:
        assert re.search(rf'<section class="site" id="site-{re.escape(site)}" hidden', dom), site

    html = report.read_text()
    summary = json.load(open(assessed / "summary.json"))
    regions = summary["regions"]["totals"]
    rows = re.findall(r'<tr class="region-row"><td><a href="#region=([^"]*)">[^<]*</a></td>((?:<td class="num">[^<]*</td>)+)', html)
    assert {name for name, _ in rows} == set(regions)
    for name, cells in rows:
        values = re.findall(r'<td class="num">([^<]*)</td>', cells)
        assert int(values[0]) == regions[name]["sites"]
        assert float(values[1]) == pytest.approx(regions[name]["area_ha"], abs=0.005)  # 2 decimals of ha
    pictured = len(list((assessed / "pictures").glob("site-*_ndvi_before.png")))
    assert html.count('<div class="colorbar"') == 2 * pictured > 0
    assert '<a href="manifest.json">' in html


def test_report_site_locations_grade_notes_and_run_section(assessed, demo):
    """Each site section gives the centre of the site's box in WGS 84 (osr, independently); a
    site graded A with a flag says why; the run section lists each epoch's sensor, mask and
    calibration and the grade table."""
    from osgeo import ogr, osr
    html = (assessed / "report.html").read_text()
    sites = read_sites(assessed / "sites.csv")
    raster = gdal.Open(str(demo / "2019.tif"))
    grid_srs = osr.SpatialReference(wkt=raster.GetProjection())
    wgs84 = osr.SpatialReference()
    wgs84.ImportFromEPSG(4326)
    for s_ in (grid_srs, wgs84):
        s_.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    source = ogr.Open(str(demo / "sites.gpkg"))  # held: a layer outlives no datasource
    layer = source.GetLayer(0)
    to_grid = osr.CoordinateTransformation(layer.GetSpatialRef(), grid_srs)
    to_wgs84 = osr.CoordinateTransformation(grid_srs, wgs84)
    located = 0
    for feature in layer:
        site = feature.GetField("site_id")
        geom = feature.GetGeometryRef().Clone()
        geom.Transform(to_grid)
        x0, x1, y0, y1 = geom.GetEnvelope()
        lon, lat, _ = to_wgs84.TransformPoint((x0 + x1) / 2, (y0 + y1) / 2)
        expect = f"{abs(lat):.4f}° {'N' if lat >= 0 else 'S'}, {abs(lon):.4f}° {'E' if lon >= 0 else 'W'}"
        section = html[html.index(f'<section class="site" id="site-{site}">'):]
        section = section[:section.index("</section>")]
        assert f'<span class="location">{expect}</span>' in section, site
        noted = '<ul class="grade-notes">' in section
        assert noted == (sites[site]["grade"] == "A" and sites[site]["flags"] != ""), site
        located += 1
    assert located == len(sites)
    for label in ("2019", "2025"):
        assert f"<tr><th>{label}: sensor</th><td>sentinel2-l2a</td></tr>" in html
        assert f"<tr><th>{label}: cloud/shadow mask</th><td>SCL classes 3,8,9,10" in html
    assert "A: cover after ≥ 60.0 %, still bare ≤ 10.0 %; B: cover after ≥ 40.0 %" in html


def test_report_least_and_most_progress_lists(assessed):
    """The two lists follow the documented ranking, recomputed here from sites.csv: graded
    sites by grade (A..E), then cover after (lower first for the least progress), then layer
    order; up to 5 each and never a site in both; each entry links its section with a picture."""
    sites = list(read_sites(assessed / "sites.csv").values())  # layer order
    graded = [(k, r) for k, r in enumerate(sites) if r["grade"] != "n/a" and r["cover_after_pct"] != ""]
    n = min(5, len(graded) // 2)
    assert n >= 2, "the demo needs graded sites"
    order = "ABCDE"
    worst = sorted(graded, key=lambda kr: (-order.index(kr[1]["grade"]), float(kr[1]["cover_after_pct"]), kr[0]))[:n]
    best = [kr for kr in sorted(graded, key=lambda kr: (order.index(kr[1]["grade"]), -float(kr[1]["cover_after_pct"]),
                                                        kr[0])) if kr not in worst][:n]
    html = (assessed / "report.html").read_text()
    section = html[html.index('<section id="highlights">'):]
    section = section[:section.index("</section>")]
    lists = re.findall(r"<ol>(.*?)</ol>", section, re.S)
    assert len(lists) == 2
    got = [re.findall(r'<li data-site-id="([^"]+)"><a href="#site-\1"><img class="thumb"', ol) for ol in lists]
    assert got == [[r["site_id"] for _, r in worst], [r["site_id"] for _, r in best]]


def test_many_pictured_sites_link_their_pictures_instead_of_embedding(reclaim_bin, demo, tmp_path):
    out = tmp_path / "o"
    run_reclaim(reclaim_bin, "assess", "--before", demo / "2019.tif", "--after", demo / "2025.tif", "--sites",
                demo / "sites.gpkg", "--id-field", "site_id", "--embed-pictures-max", "2", "--out", out, "--quiet")
    html = (out / "report.html").read_text()
    pictures = sorted(p.name for p in (out / "pictures").glob("site-*.png"))
    linked = re.findall(r'<img src="pictures/(site-[^"]+\.png)" alt="[^"]*" loading="lazy">', html)
    assert sorted(linked) == pictures and len(pictures) > 10
    assert html.count("data:image/png") == 2  # the overview and the legend only
    if browser.find_chromium() is None:
        pytest.fail("chromium not found: scripts/setup.sh installs Debian's chromium")
    # Lazy images below the fold need not load in a headless dump; none may be broken links.
    for name in linked:
        assert (out / "pictures" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_manifest_checksums_and_parameters(assessed, demo):
    manifest = json.load(open(assessed / "manifest.json"))
    assert manifest["software"]["name"] == "reclaim"
    roles = {e["role"] for e in manifest["inputs"]}
    assert {"before", "after", "sites"} <= roles
    for entry in manifest["inputs"] + manifest["outputs"]:
        data = open(entry["path"], "rb").read()
        assert entry["bytes"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest(), entry["path"]
    params = manifest["parameters"]
    assert params["carbon-rates"] == "1,2,3" and params["coverage"] == "center"  # defaults made explicit
    assert params["resolved"]["years"] == 6 and params["resolved"]["vegetated_ndvi"] == VEGETATED
    assert manifest["started"] <= manifest["finished"]


def test_job_file_gives_the_same_run(reclaim_bin, demo, assessed, tmp_path):
    job = tmp_path / "job.toml"
    job.write_text(f'before = "{demo / "2019.tif"}"\nafter = "{demo / "2025.tif"}"\nsites = "{demo / "sites.gpkg"}"\n'
                   f'id-field = "site_id"\ncoverage = "center"\nno-pictures = true\nquiet = true\n')
    run_reclaim(reclaim_bin, "assess", "--job", job, "--out", tmp_path / "o")
    assert (tmp_path / "o" / "sites.csv").read_text() == (assessed / "sites.csv").read_text()
    # Command-line options override the job file's.
    run_reclaim(reclaim_bin, "assess", "--job", job, "--carbon-rates", "2,4,6", "--out", tmp_path / "o2")
    rows = read_sites(tmp_path / "o2" / "sites.csv")
    base = read_sites(assessed / "sites.csv")
    for site, row in rows.items():
        if base[site]["carbon_central_tC"]:
            assert num(row["carbon_central_tC"]) == pytest.approx(2 * num(base[site]["carbon_central_tC"]))


def test_custom_grades_file(reclaim_bin, demo, tmp_path):
    grades = tmp_path / "grades.json"
    grades.write_text(json.dumps({"grade": [{"name": "PASS", "min_cover_after_pct": 50}]}))
    run_reclaim(reclaim_bin, "assess", "--before", demo / "2019.tif", "--after", demo / "2025.tif", "--sites",
                demo / "sites.gpkg", "--id-field", "site_id", "--grades", grades, "--no-pictures", "--out",
                tmp_path / "o", "--quiet")
    for row in read_sites(tmp_path / "o" / "sites.csv").values():
        if row["grade"] != "n/a":
            assert row["grade"] == ("PASS" if num(row["cover_after_pct"]) >= 50 else "E")


@pytest.mark.parametrize("case", ["missing_sites", "bad_grades", "bad_job"])
def test_bad_input_is_one_line_and_leaves_no_report(reclaim_bin, demo, tmp_path, case):
    args = ["assess", "--before", demo / "2019.tif", "--after", demo / "2025.tif", "--sites", demo / "sites.gpkg",
            "--out", tmp_path / "o"]
    if case == "missing_sites":
        args[6] = tmp_path / "nope.gpkg"
        needle = "nope.gpkg"
    elif case == "bad_grades":
        (tmp_path / "g.json").write_text('{"grade": [{"name": "A", "min_cover": 3}]}')
        args += ["--grades", tmp_path / "g.json"]
        needle = "g.json"
    else:
        (tmp_path / "job.json").write_text("{not json")
        args += ["--job", tmp_path / "job.json"]
        needle = "job.json"
    proc = run_reclaim(reclaim_bin, *args, check=False)
    assert proc.returncode == 3, proc.stderr
    lines = [l for l in proc.stderr.splitlines() if l.startswith("reclaim: error")]
    assert len(lines) == 1 and needle in lines[0]
    assert not (tmp_path / "o" / "report.html").exists() and not (tmp_path / "o" / "manifest.json").exists()


def mann_kendall_p(x, y):
    """Textbook Mann-Kendall two-sided p with the tie correction (float64, independent of reclaim)."""
    order = np.argsort(x)
    y = np.asarray(y, float)[order]
    n = len(y)
    s = sum(np.sign(y[j] - y[i]) for i in range(n) for j in range(i + 1, n))
    _, counts = np.unique(y, return_counts=True)
    var = (n * (n - 1) * (2 * n + 5) - sum(t * (t - 1) * (2 * t + 5) for t in counts)) / 18.0
    z = 0.0 if s == 0 else (s - np.sign(s)) / math.sqrt(var)
    return math.erfc(abs(z) / math.sqrt(2))


def test_time_series_trend_per_site(reclaim_bin, demo, tmp_path):
    """--epoch adds epochs to each site's mean-NDVI series: slope against scipy's Theil-Sen and
    p against a textbook Mann-Kendall, on the site means reclaim reports per epoch."""
    from scipy.stats import theilslopes
    out = tmp_path / "o"
    # Intermediate epochs: the 2019 scene relabelled 2020 and the 2025 scene relabelled 2022.
    run_reclaim(reclaim_bin, "assess", "--before", demo / "2019.tif", "--after", demo / "2025.tif", "--epoch",
                f"2020={demo / '2019.tif'}", "--epoch", f"2022={demo / '2025.tif'}", "--sites", demo / "sites.gpkg",
                "--id-field", "site_id", "--no-pictures", "--out", out, "--quiet")
    checked = 0
    for row in read_sites(out / "sites.csv").values():
        before, after = num(row["ndvi_before_mean"]), num(row["ndvi_after_mean"])
        if not (math.isfinite(before) and math.isfinite(after)):
            assert row["trend_ndvi_slope_per_yr"] == ""
            continue
        years, values = [2019, 2020, 2022, 2025], [before, before, after, after]
        assert num(row["trend_epochs"]) == 4
        assert num(row["trend_ndvi_slope_per_yr"]) == pytest.approx(theilslopes(values, years)[0], rel=1e-9)
        assert num(row["trend_p"]) == pytest.approx(mann_kendall_p(years, values), rel=1e-9)
        checked += 1
    assert checked >= 3
    summary = json.load(open(out / "summary.json"))
    assert [e["year"] for e in summary["epochs"]] == [2020, 2022]
    # The report draws each site's series: one point per epoch, titled "year: mean NDVI".
    html = (out / "report.html").read_text()
    charts = 0
    for site, row in read_sites(out / "sites.csv").items():
        before, after = num(row["ndvi_before_mean"]), num(row["ndvi_after_mean"])
        section = html[html.index(f'<section class="site" id="site-{site}">'):]
        section = section[:section.index("</section>")]
        titles = re.findall(r'<circle class="point"[^>]*><title>([^<]*)</title>', section)
        if math.isfinite(before) and math.isfinite(after):
            assert titles == [f"2019: {before:.3f}", f"2020: {before:.3f}", f"2022: {after:.3f}", f"2025: {after:.3f}"]
            charts += 1
        else:
            assert titles == []
    assert charts == checked


def test_pictures_max_bounds_the_pictures(reclaim_bin, demo, tmp_path):
    proc = run_reclaim(reclaim_bin, "assess", "--before", demo / "2019.tif", "--after", demo / "2025.tif", "--sites",
                       demo / "sites.gpkg", "--id-field", "site_id", "--pictures-max", "2", "--out", tmp_path / "o")
    assert "--pictures-max" in proc.stderr
    assert len(list((tmp_path / "o" / "pictures").glob("site-*.png"))) == 10  # 2 sites x 5 pictures
    html = (tmp_path / "o" / "report.html").read_text()
    assert html.count('class="site-row"') == len(read_sites(tmp_path / "o" / "sites.csv"))


def test_overwrite_removes_an_earlier_runs_pictures_and_pages_only(reclaim_bin, demo, tmp_path):
    """A rerun with --overwrite that pictures fewer sites and makes no site pages removes the
    earlier run's other pictures and pages (they would look like part of the new report), and
    leaves a file of the user's in those folders alone."""
    out = tmp_path / "o"
    base = ["assess", "--before", demo / "2019.tif", "--after", demo / "2025.tif", "--sites", demo / "sites.gpkg",
            "--id-field", "site_id", "--out", out, "--quiet"]
    run_reclaim(reclaim_bin, *base, "--site-pages-above", "3")
    assert len(list((out / "pictures").glob("site-*.png"))) > 10
    assert len(list((out / "pages").glob("sites-*.html"))) >= 1
    (out / "pictures" / "my-notes.txt").write_text("mine")
    (out / "pages" / "my-page.html").write_text("mine")
    run_reclaim(reclaim_bin, *base, "--overwrite", "--pictures-max", "2")
    pictures = [f"site-0000{k}_{kind}" for k in (1, 2)
                for kind in ("before_rgb", "after_rgb", "ndvi_before", "ndvi_after", "change")]
    # each georeferenced picture with its sidecars (.wld, .png.aux.xml), the legend without
    expected = [f"{p}{ext}" for p in pictures + ["overview"] for ext in (".png", ".wld", ".png.aux.xml")]
    assert sorted(p.name for p in (out / "pictures").iterdir()) == sorted(expected + ["legend.png", "my-notes.txt"])
    assert [p.name for p in (out / "pages").iterdir()] == ["my-page.html"]
    manifest = json.loads((out / "manifest.json").read_text())
    listed = {o["path"].split("/")[-1] for o in manifest["outputs"] if o["role"] == "picture"}
    assert len(listed) == 12


def test_sites_without_id_field_complete_the_run(reclaim_bin, demo, tmp_path):
    """Regression: without --id-field the GeoPackage table failed after the whole pass
    ("cannot add field fid"), leaving rasters and sites.csv but no report or manifest."""
    out = tmp_path / "no_id"
    run_reclaim(reclaim_bin, "assess", "--before", demo / "2019.tif", "--after", demo / "2025.tif", "--sites",
                demo / "sites.gpkg", "--no-pictures", "--out", out, "--quiet")
    for name in ("sites.csv", "sites.gpkg", "summary.json", "report.html", "manifest.json"):
        assert (out / name).is_file(), name
    with open(out / "sites.csv") as f:
        rows = list(csv.DictReader(f))
    src = ogr.Open(str(demo / "sites.gpkg"))
    fids = [str(feature.GetFID()) for feature in src.GetLayer(0)]
    assert [r["fid"] for r in rows] == fids
    ds = ogr.Open(str(out / "sites.gpkg"))
    assert [f.GetField("fid") for f in ds.GetLayer(0)] == fids


def test_site_fields_named_like_output_columns_are_prefixed(reclaim_bin, demo, assessed, tmp_path):
    """Real site inventories carry their own `area_ha`: such a field used to make a CSV with two
    `area_ha` headers and fail the GeoPackage after the whole pass. It is written as `attr_area_ha`
    (an `AREA_HA` too: GeoPackage compares names ignoring case), with a warning naming it."""
    src = ogr.Open(str(demo / "sites.gpkg"))
    sites = tmp_path / "sites_with_area.gpkg"
    out = ogr.GetDriverByName("GPKG").CreateDataSource(str(sites))
    layer = out.CopyLayer(src.GetLayer(0), "sites")
    for name in ("area_ha", "DNDVI_MEAN"):
        layer.CreateField(ogr.FieldDefn(name, ogr.OFTReal))
    expected = {}
    for k, feature in enumerate(layer):
        feature.SetField("area_ha", 100.0 + k)
        feature.SetField("DNDVI_MEAN", -k)
        layer.SetFeature(feature)
        expected[feature.GetField("site_id")] = (100.0 + k, -k)
    out = None
    proc = run_reclaim(reclaim_bin, "assess", "--before", demo / "2019.tif", "--after", demo / "2025.tif", "--sites",
                       sites, "--id-field", "site_id", "--coverage", "center", "--region-field", "status",
                       "--no-pictures", "--out", tmp_path / "o")
    renamed = [l for l in proc.stderr.splitlines() if "has the name of another column" in l]
    assert any("'area_ha'" in l and "'attr_area_ha'" in l and "sites.csv" in l for l in renamed), proc.stderr
    header = (tmp_path / "o" / "sites.csv").read_text().splitlines()[0].split(",")
    assert len(header) == len(set(h.lower() for h in header)), header
    rows = read_sites(tmp_path / "o" / "sites.csv")
    base = read_sites(assessed / "sites.csv")
    for site, row in rows.items():
        assert float(row["attr_area_ha"]) == expected[site][0] and float(row["attr_DNDVI_MEAN"]) == expected[site][1]
        assert row["area_ha"] == base[site]["area_ha"] and row["dndvi_mean"] == base[site]["dndvi_mean"]
    gpkg = ogr.Open(str(tmp_path / "o" / "sites.gpkg"))
    names = [f.GetName() for f in gpkg.GetLayer(0).schema]
    assert "attr_area_ha" in names and "area_ha" in names


def sites_in_first_tile(demo, tmp_path, limit=500):
    """A copy of the demo's sites keeping those whose picture window (box + the larger of 8 px
    and 15 %) lies inside the grid's first 512 x 512 tile."""
    ds = gdal.Open(str(demo / "2019.tif"))
    x0, dx, _, y0, _, dy = ds.GetGeoTransform()
    src = ogr.Open(str(demo / "sites.gpkg"))
    layer = src.GetLayer(0)
    target = osr.SpatialReference(wkt=ds.GetProjection())
    target.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    source = layer.GetSpatialRef().Clone()
    source.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    ct = osr.CoordinateTransformation(source, target)
    keep = []
    for f in layer:
        g = f.GetGeometryRef().Clone()
        g.Transform(ct)
        minx, maxx, miny, maxy = g.GetEnvelope()
        c0, c1 = (minx - x0) / dx, (maxx - x0) / dx
        r0, r1 = (maxy - y0) / dy, (miny - y0) / dy
        margin = max(8.0, 0.15 * max(c1 - c0, r1 - r0))
        if c0 - margin >= 0 and r0 - margin >= 0 and c1 + margin < limit and r1 + margin < limit:
            keep.append(f.GetField("site_id"))
    assert keep, "the demo has sites in its first tile"
    out = tmp_path / "first_tile.gpkg"
    ids = ", ".join(f"'{k}'" for k in keep)
    gdal.VectorTranslate(str(out), str(demo / "sites.gpkg"), where=f"site_id IN ({ids})")
    return out, keep


def test_no_rasters_gives_the_same_tables_and_reads_only_the_tiles_near_the_sites(reclaim_bin, demo, tmp_path):
    """--no-rasters writes no COG and only reads the 512-px tiles meeting a site's picture
    window, and its tables are the full run's, byte for byte. With --overwrite over a full
    run, that run's rasters are removed; the manifest lists no raster."""
    sites, ids = sites_in_first_tile(demo, tmp_path)
    base = ["assess", "--before", demo / "2019.tif", "--after", demo / "2025.tif", "--sites", sites,
            "--id-field", "site_id", "--log-format", "json"]
    full, lean = tmp_path / "full", tmp_path / "lean"
    full_log = run_reclaim(reclaim_bin, *base, "--out", full).stderr
    run_reclaim(reclaim_bin, *base, "--out", lean)
    lean_log = run_reclaim(reclaim_bin, *base, "--no-rasters", "--out", lean, "--overwrite").stderr

    def pixels_read(log):
        plans = [e for e in map(json.loads, log.splitlines()) if e.get("event") == "plan"]
        return sum(e["tiles"] * e["tile_width"] * e["tile_height"] for e in plans)

    grid = gdal.Open(str(demo / "2019.tif"))
    assert pixels_read(full_log) >= grid.RasterXSize * grid.RasterYSize
    assert pixels_read(lean_log) <= 512 * 512 < grid.RasterXSize * grid.RasterYSize
    assert sorted(read_sites(lean / "sites.csv")) == sorted(ids)
    assert (lean / "sites.csv").read_bytes() == (full / "sites.csv").read_bytes()
    assert json.loads((lean / "summary.json").read_text()) == json.loads((full / "summary.json").read_text())
    assert not list(lean.glob("*.tif")) and not list(lean.glob("*.tif.aux.xml")), "the full run's rasters removed"
    # the site pictures are the full run's (the overview shows only the tiles read)
    for p in (full / "pictures").glob("site-*.png"):
        assert (lean / "pictures" / p.name).read_bytes() == p.read_bytes(), p.name
    manifest = json.loads((lean / "manifest.json").read_text())
    assert not [o for o in manifest["outputs"] if o["role"] == "raster"]
    assert manifest["parameters"]["no-rasters"] == "true"


def test_no_rasters_computes_only_the_pixels_read_and_changes_nothing(reclaim_bin, tmp_path):
    """Without full rasters the pass computes only the pixels something reads (the sites' zone
    items, the pictures' samples, the overview's every 3rd pixel here: pixels_read.hpp), and its
    plan event says how many. Every table and site picture is the full run's, byte for byte; the
    overview is the full run's in every tile read and empty in the others."""
    scene = tmp_path / "scene"
    run_reclaim(reclaim_bin, "synth", "--out", scene, "--width", "2100", "--height", "1300")
    sites = tmp_path / "some_sites.gpkg"  # every third site: tiles far from any site are left out
    gdal.VectorTranslate(str(sites), str(scene / "sites.gpkg"), where="fid % 3 = 0")
    base = ["assess", "--before", scene / "2019.tif", "--after", scene / "2025.tif", "--sites", sites,
            "--id-field", "site_id", "--log-format", "json"]
    full, lean = tmp_path / "full", tmp_path / "lean"
    run_reclaim(reclaim_bin, *base, "--out", full)
    log = run_reclaim(reclaim_bin, *base, "--no-rasters", "--out", lean).stderr
    plan = [e for e in map(json.loads, log.splitlines()) if e.get("event") == "plan"]
    assert len(plan) == 1 and plan[0]["tile_width"] == plan[0]["tile_height"] == 512, plan
    tiles, tile_pixels = plan[0]["tiles"], plan[0]["tiles"] * 512 * 512
    assert 0 < plan[0]["pixels_read"] < tile_pixels / 3, plan[0]
    assert tiles < 15, "some of the grid's 15 tiles are far from every site"

    assert (lean / "sites.csv").read_bytes() == (full / "sites.csv").read_bytes()
    assert json.loads((lean / "summary.json").read_text()) == json.loads((full / "summary.json").read_text())
    site_pictures = sorted(p.name for p in (full / "pictures").glob("site-*.png"))
    assert len(site_pictures) == 5 * 4  # sites 3, 6, 9 and 12, five pictures each
    assert sorted(p.name for p in (lean / "pictures").glob("site-*.png")) == site_pictures
    for name in site_pictures:
        assert (lean / "pictures" / name).read_bytes() == (full / "pictures" / name).read_bytes(), name

    # The overview samples every 3rd pixel of the grid; group its pixels by the 512-px tile they lie in.
    a = gdal.Open(str(full / "pictures" / "overview.png")).ReadAsArray()
    b = gdal.Open(str(lean / "pictures" / "overview.png")).ReadAsArray()
    assert a.shape == b.shape == (4, 434, 700)
    rows, cols = np.arange(434) * 3 // 512, np.arange(700) * 3 // 512
    read = 0
    for ty in range(3):
        for tx in range(5):
            block = np.ix_(rows == ty, cols == tx)
            fa, fb = a[:, block[0], block[1]], b[:, block[0], block[1]]
            if (fb[3] == 0).all():
                continue  # a tile no site's picture window meets: not read
            assert np.array_equal(fa, fb), (ty, tx)
            read += 1
    assert read == tiles
