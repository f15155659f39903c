"""reclaim change end to end: classes against an independent numpy classification written
from docs/change.md, dNDVI against float64, the class raster's colour table and categories,
rules files, and bad input."""
import json

import numpy as np
import pytest
from osgeo import gdal

from conftest import run_reclaim
from reference import S2_MASKED_SCL, assert_close, indices, s2_reflectance

ROLES = ["blue", "green", "red", "nir", "swir1", "swir2"]


@pytest.fixture(scope="module")
def pair(tmp_path_factory, reclaim_bin):
    folder = tmp_path_factory.mktemp("pair")
    run_reclaim(reclaim_bin, "synth", "--out", folder, "--width", "700", "--height", "520", "--seed", "5")
    return folder / "2019.tif", folder / "2025.tif"


def epoch(path):
    ds = gdal.Open(str(path))
    dn = [ds.GetRasterBand(b + 1).ReadAsArray() for b in range(7)]
    refl = {role: s2_reflectance(d) for role, d in zip(ROLES, dn[:6])}
    values = indices(refl)
    masked = np.isin(dn[6], S2_MASKED_SCL)
    return {k: np.where(masked, np.nan, values[k]) for k in ("ndvi", "bsi", "mndwi", "fvc")}


def first_match(shape):
    """An ordered rule table in numpy: rule(value, condition) sets the pixels no earlier rule
    took; the rest stay 255 (unclassified)."""
    out = np.full(shape, 255, np.uint8)
    done = np.zeros(shape, bool)

    def rule(value, cond):
        hit = cond & ~done
        out[hit] = value
        done[hit] = True

    return out, rule


def classify(b, a, ndvi_bare=0.2, bsi_bare=0.0, ndvi_veg=0.4, gain=0.15, loss=-0.15, water=0.0):
    """The default rules of docs/change.md, first match wins, in float64."""
    d = a["ndvi"] - b["ndvi"]
    out, rule = first_match(d.shape)
    with np.errstate(invalid="ignore"):
        bare_b = (b["ndvi"] < ndvi_bare) & (b["bsi"] > bsi_bare)
        bare_a = (a["ndvi"] < ndvi_bare) & (a["bsi"] > bsi_bare)
        rule(6, b["mndwi"] > water)
        rule(6, a["mndwi"] > water)
        rule(5, d <= loss)
        rule(2, bare_b & (a["ndvi"] >= ndvi_veg))
        rule(3, (d >= gain) & (a["ndvi"] < ndvi_veg))
        rule(4, (b["ndvi"] >= ndvi_veg) & (a["ndvi"] >= ndvi_veg))
        rule(1, bare_b & bare_a)
    nodata = np.zeros(d.shape, bool)
    for e in (b, a):
        for k in ("ndvi", "bsi", "mndwi"):
            nodata |= np.isnan(e[k])
    out[nodata] = 0
    return out, d


def read(path):
    ds = gdal.Open(str(path))
    return ds, ds.GetRasterBand(1).ReadAsArray()


def test_classes_and_dndvi_match_numpy(pair, reclaim_bin, tmp_path):
    before, after = pair
    proc = run_reclaim(reclaim_bin, "change", "--before", f"2019={before}", "--after", f"2025={after}", "--index",
                       "ndvi", "--threshold", "none", "--out", tmp_path, "--memory-budget", "3M", "--readers", "3",
                       "--quiet")
    assert proc.stdout.split() == [str(tmp_path / n) for n in
                                   ("change_class.tif", "dndvi.tif", "2019_ndvi.tif", "2025_ndvi.tif")]
    b, a = epoch(before), epoch(after)
    expected, d = classify(b, a)
    _, classes = read(tmp_path / "change_class.tif")
    counts = {int(v): int((classes == v).sum()) for v in np.unique(classes)}
    expected_counts = {int(v): int((expected == v).sum()) for v in np.unique(expected)}
    assert counts == expected_counts
    assert np.array_equal(classes, expected)
    # the demo pair has every default class
    assert set(counts) >= {0, 1, 2, 3, 4, 5, 6}, counts
    assert_close(read(tmp_path / "dndvi.tif")[1], d, "dndvi")
    assert_close(read(tmp_path / "2019_ndvi.tif")[1], b["ndvi"], "2019 ndvi")


def test_class_raster_is_a_described_byte_cog(pair, reclaim_bin, tmp_path):
    before, after = pair
    run_reclaim(reclaim_bin, "change", "--before", before, "--after", after, "--out", tmp_path, "--quiet")
    ds, _ = read(tmp_path / "change_class.tif")
    band = ds.GetRasterBand(1)
    assert band.DataType == gdal.GDT_Byte and band.GetNoDataValue() == 0
    assert ds.GetMetadataItem("LAYOUT", "IMAGE_STRUCTURE") == "COG"
    assert ds.GetGeoTransform() == gdal.Open(str(before)).GetGeoTransform()
    names = band.GetCategoryNames()  # the default, gated scheme (docs/change.md)
    assert names[2] == "revegetated" and names[6] == "water (stable)" and names[7] == "water gained"
    assert names[10] == "stable, other" and names[255] == "unclassified"
    ct = band.GetColorTable()
    assert ct.GetColorEntry(2) == (26, 152, 80, 255) and ct.GetColorEntry(0)[3] == 0
    info = gdal.Info(str(tmp_path / "change_class.tif"))
    assert "revegetated" in info and "Color Table" in info
    assert sorted(p.name for p in tmp_path.iterdir()) == ["change_class.tif", "change_class.tif.aux.xml",
                                                          "change_direction.tif", "change_direction.tif.aux.xml",
                                                          "change_magnitude.tif", "dndvi.tif"]


def test_rules_file_changes_thresholds_and_adds_a_class(pair, reclaim_bin, tmp_path):
    before, after = pair
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({
        "thresholds": {"ndvi_vegetated": 0.45, "dndvi_gain": 0.1},
        "classes": [{"value": 7, "name": "vegetation gain (not from bare)", "colour": "#1f78b4"}],
        "rules": [{"class": 7, "when": ["dndvi >= 0.1", "ndvi_after >= 0.45"]}],
    }))
    run_reclaim(reclaim_bin, "change", "--before", before, "--after", after, "--rules", rules, "--out",
                tmp_path / "o", "--quiet")
    b, a = epoch(before), epoch(after)
    expected, d = classify(b, a, ndvi_veg=0.45, gain=0.1)
    with np.errstate(invalid="ignore"):
        expected[(expected == 255) & (d >= 0.1) & (a["ndvi"] >= 0.45)] = 7
    ds, classes = read(tmp_path / "o" / "change_class.tif")
    assert np.array_equal(classes, expected)
    assert (classes == 7).sum() > 0
    band = ds.GetRasterBand(1)
    # GDAL 3.6 loads the .aux.xml lazily, on the first nodata/metadata query, not on
    # GetCategoryNames (gdalinfo and QGIS query nodata first).
    assert band.GetNoDataValue() == 0
    assert band.GetCategoryNames()[7] == "vegetation gain (not from bare)"


def test_bad_rules_file_is_named(pair, reclaim_bin, tmp_path):
    before, after = pair
    rules = tmp_path / "bad.toml"
    rules.write_text('[[rules]]\nclass = 2\nwhen = ["ndvi_afer >= 0.45"]\n')
    proc = run_reclaim(reclaim_bin, "change", "--before", before, "--after", after, "--rules", rules, "--out",
                       tmp_path / "o", check=False)
    assert proc.returncode == 3 and "bad.toml" in proc.stderr and "ndvi_afer" in proc.stderr
    assert not (tmp_path / "o").exists()


def test_after_epoch_on_another_grid_is_warped_onto_the_before_grid(pair, reclaim_bin, tmp_path):
    """A cropped after-scene (another extent, same pixel alignment): warped onto the before grid,
    pixels it does not cover are class 0, the rest equal the full-scene classes."""
    before, after = pair
    crop = tmp_path / "crop.tif"
    gdal.Translate(str(crop), str(after), srcWin=[100, 60, 400, 300])
    # The rule classes: the gated ones' threshold comes from each run's own pixels (docs/change.md).
    rules = ["--threshold", "none", "--quiet"]
    run_reclaim(reclaim_bin, "change", "--before", before, "--after", after, "--out", tmp_path / "full", *rules)
    run_reclaim(reclaim_bin, "change", "--before", before, "--after", crop, "--out", tmp_path / "crop", *rules)
    ds, classes = read(tmp_path / "crop" / "change_class.tif")
    _, full = read(tmp_path / "full" / "change_class.tif")
    assert ds.GetGeoTransform() == gdal.Open(str(before)).GetGeoTransform()
    inside = np.zeros(full.shape, bool)
    inside[60:360, 100:500] = True
    assert (classes[~inside] == 0).all()
    assert np.array_equal(classes[inside], full[inside])


def test_after_epoch_outside_the_before_grid_is_refused(pair, reclaim_bin, tmp_path):
    before, after = pair
    far = tmp_path / "far.tif"
    src = gdal.Open(str(after))
    gt = list(src.GetGeoTransform())
    gt[0] += 1e6  # a thousand kilometres east
    gdal.Translate(str(far), src, outputBounds=[gt[0], gt[3], gt[0] + gt[1] * src.RasterXSize,
                                                gt[3] + gt[5] * src.RasterYSize])
    proc = run_reclaim(reclaim_bin, "change", "--before", before, "--after", far, "--out", tmp_path / "o",
                       check=False)
    assert proc.returncode == 3 and "does not overlap" in proc.stderr and "far.tif" in proc.stderr
    assert not (tmp_path / "o").exists()


def test_after_epoch_at_another_resolution_and_crs(pair, reclaim_bin, tmp_path):
    """After epoch at 20 m in EPSG:4326: warped onto the 10 m UTM before grid (bilinear for
    reflectance, nearest for SCL). Reference: the same warp done with gdal.Warp, classified in numpy."""
    before, after = pair
    geo = tmp_path / "after_geo.tif"
    gdal.Warp(str(geo), str(after), dstSRS="EPSG:4326", xRes=0.0002, yRes=0.0002, resampleAlg="near")
    run_reclaim(reclaim_bin, "change", "--before", before, "--after", geo, "--threshold", "none", "--out",
                tmp_path / "o", "--quiet")
    ref = gdal.Open(str(before))
    gt = ref.GetGeoTransform()
    bounds = [gt[0], gt[3] + gt[5] * ref.RasterYSize, gt[0] + gt[1] * ref.RasterXSize, gt[3]]
    common = dict(format="MEM", dstSRS=ref.GetProjection(), outputBounds=bounds, width=ref.RasterXSize,
                  height=ref.RasterYSize, srcNodata=0, dstNodata=0)
    refl_ds = gdal.Warp("", str(geo), resampleAlg="bilinear", **common)
    scl_ds = gdal.Warp("", str(geo), resampleAlg="near", **common)
    dn = [refl_ds.GetRasterBand(b + 1).ReadAsArray() for b in range(6)] + [scl_ds.GetRasterBand(7).ReadAsArray()]
    values = indices({role: s2_reflectance(d) for role, d in zip(ROLES, dn[:6])})
    masked = np.isin(dn[6], S2_MASKED_SCL)
    a = {k: np.where(masked, np.nan, values[k]) for k in ("ndvi", "bsi", "mndwi", "fvc")}
    expected, _ = classify(epoch(before), a)
    _, classes = read(tmp_path / "o" / "change_class.tif")
    agree = (classes == expected).mean()
    # Not bit-identical: GDAL's approximate transformer (error threshold 0.125 px) interpolates
    # coordinates per warp chunk, and a warped VRT read tile by tile chunks differently from
    # one in-memory warp; seen: 99.94 % identical.
    assert agree > 0.999, f"only {agree:.4%} of pixels agree"
    assert (classes != 0).mean() > 0.5


def test_target_grid(pair, reclaim_bin, tmp_path):
    """--target-grid: both epochs read onto another raster's grid (here a 20 m grid over part of
    the scene); classes equal a classification of both epochs warped there with gdal.Warp."""
    before, after = pair
    grid = tmp_path / "grid20.tif"
    src = gdal.Open(str(before))
    gt = src.GetGeoTransform()
    x0, y1 = gt[0] + 100 * gt[1], gt[3] + 40 * gt[5]
    gdal.Warp(str(grid), src, outputBounds=[x0, y1 - 200 * 20, x0 + 250 * 20, y1], xRes=20, yRes=20,
              resampleAlg="near")
    run_reclaim(reclaim_bin, "change", "--before", before, "--after", after, "--target-grid", grid,
                "--threshold", "none", "--out", tmp_path / "o", "--quiet")
    ds, classes = read(tmp_path / "o" / "change_class.tif")
    assert ds.GetGeoTransform() == gdal.Open(str(grid)).GetGeoTransform() and classes.shape == (200, 250)
    common = dict(format="MEM", outputBounds=[x0, y1 - 200 * 20, x0 + 250 * 20, y1], width=250, height=200,
                  srcNodata=0, dstNodata=0)
    epochs = []
    for path in (before, after):
        refl = gdal.Warp("", str(path), resampleAlg="bilinear", **common)
        scl = gdal.Warp("", str(path), resampleAlg="near", **common)
        dn = [refl.GetRasterBand(b + 1).ReadAsArray() for b in range(6)] + [scl.GetRasterBand(7).ReadAsArray()]
        values = indices({role: s2_reflectance(d) for role, d in zip(ROLES, dn[:6])})
        masked = np.isin(dn[6], S2_MASKED_SCL)
        epochs.append({k: np.where(masked, np.nan, values[k]) for k in ("ndvi", "bsi", "mndwi", "fvc")})
    expected, _ = classify(*epochs)
    # Same tolerance as the reprojection test: warp chunking differs slightly (see there).
    assert (classes == expected).mean() > 0.999


def test_scratch_writer_gives_the_same_class_raster(pair, reclaim_bin, tmp_path):
    """Under a tight budget the class raster goes through the raw scratch file (UInt8): same
    pixels, colour table and categories as the streaming writer."""
    before, after = pair
    log = run_reclaim(reclaim_bin, "change", "--before", before, "--after", after, "--out", tmp_path / "s",
                      "--memory-budget", "1M", "--log-format", "json").stderr
    assert '"kind":"scratch"' in log
    run_reclaim(reclaim_bin, "change", "--before", before, "--after", after, "--out", tmp_path / "t", "--quiet")
    for name in ("change_class.tif", "dndvi.tif"):
        a, b = read(tmp_path / "s" / name)[1], read(tmp_path / "t" / name)[1]
        assert np.array_equal(a, b, equal_nan=True), name
    ds = gdal.Open(str(tmp_path / "s" / "change_class.tif"))  # keep the dataset alive while using its band
    band = ds.GetRasterBand(1)
    assert band.GetNoDataValue() == 0 and band.GetCategoryNames()[5].startswith("vegetation loss")
    assert band.GetColorTable().GetColorEntry(6) == (49, 130, 189, 255)


# ---- change magnitude, thresholds and the gated classes (docs/change.md, "Change magnitude") ----
MAGNITUDE_BANDS = ["blue", "green", "red", "nir", "swir1"]  # the bands the change pass reads
BIN = 1 / 256


def reflectance_stack(path):
    """The magnitude bands' reflectance (NaN where nodata) and the SCL-clear mask of a synth scene."""
    ds = gdal.Open(str(path))
    dn = [ds.GetRasterBand(b + 1).ReadAsArray() for b in range(7)]
    refl = np.stack([s2_reflectance(dn[ROLES.index(r)]) for r in MAGNITUDE_BANDS])
    return refl, ~np.isin(dn[6], S2_MASKED_SCL)


def z_differences(before, after):
    """After-minus-before z-scores per band (population sd over the pixels clear in both epochs
    with every band valid), in float64, and that validity mask."""
    (rb, cb), (ra, ca) = reflectance_stack(before), reflectance_stack(after)
    valid = cb & ca & np.isfinite(rb).all(axis=0) & np.isfinite(ra).all(axis=0)
    z = [(r - r[:, valid].mean(axis=1)[:, None, None]) / r[:, valid].std(axis=1)[:, None, None] for r in (rb, ra)]
    return z[1] - z[0], valid


def magnitude_reference(before, after):
    """Change-vector magnitude of the z-scores, in float64; NaN where not valid."""
    dz, valid = z_differences(before, after)
    return np.where(valid, np.sqrt((dz**2).sum(axis=0)), np.nan)


def direction_reference(before, after):
    """Sector codes in the red-NIR plane: 1 NIR up red down, 2 both up, 3 NIR down red up, 4 both
    down (zero counts as up); 0 where not valid."""
    dz, valid = z_differences(before, after)
    red, nir = dz[MAGNITUDE_BANDS.index("red")], dz[MAGNITUDE_BANDS.index("nir")]
    code = np.where(nir >= 0, np.where(red < 0, 1, 2), np.where(red >= 0, 3, 4))
    return np.where(valid, code, 0).astype(np.uint8), np.minimum(np.abs(red), np.abs(nir))


def otsu_reference(m):
    counts = np.bincount(np.minimum(np.floor(m[np.isfinite(m)] / BIN), 64 * 256 - 1).astype(int), minlength=64 * 256)
    centres = (np.arange(counts.size) + 0.5) * BIN
    p = counts / counts.sum()
    w0, mu0 = np.cumsum(p)[:-1], np.cumsum(p * centres)[:-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        between = ((p * centres).sum() * w0 - mu0) ** 2 / (w0 * (1 - w0))
    return (int(np.nanargmax(between)) + 1) * BIN


def gated_reference(b, a, m, t, ndvi_bare=0.2, bsi_bare=0.0, ndvi_veg=0.4, gain=0.15, loss=-0.15, water=0.0):
    """default_gated_rules of docs/change.md, first match wins, in float64."""
    d = a["ndvi"] - b["ndvi"]
    out, rule = first_match(d.shape)
    with np.errstate(invalid="ignore"):
        ch = m >= t
        rule(7, ch & (b["mndwi"] <= water) & (a["mndwi"] > water))
        rule(8, ch & (b["mndwi"] > water) & (a["mndwi"] <= water))
        rule(6, (b["mndwi"] > water) & (a["mndwi"] > water))
        rule(2, ch & (b["ndvi"] < ndvi_bare) & (b["bsi"] > bsi_bare) & (a["ndvi"] >= ndvi_veg))
        rule(5, ch & (d <= loss))
        rule(3, ch & (d >= gain))
        rule(9, ch)
        rule(4, (b["ndvi"] >= ndvi_veg) & (a["ndvi"] >= ndvi_veg))
        rule(1, (b["ndvi"] < ndvi_bare) & (b["bsi"] > bsi_bare) & (a["ndvi"] < ndvi_bare) & (a["bsi"] > bsi_bare))
        rule(10, np.ones(d.shape, bool))
    nodata = np.isnan(m)
    for e in (b, a):
        for k in ("ndvi", "bsi", "mndwi"):
            nodata |= np.isnan(e[k])
    out[nodata] = 0
    return out


def test_magnitude_threshold_and_gated_classes_match_numpy(pair, reclaim_bin, tmp_path):
    before, after = pair
    proc = run_reclaim(reclaim_bin, "change", "--before", f"2019={before}", "--after", f"2025={after}",
                       "--threshold", "otsu", "--out", tmp_path, "--memory-budget", "3M")
    m = magnitude_reference(before, after)
    ds, magnitude = read(tmp_path / "change_magnitude.tif")
    assert np.array_equal(np.isnan(magnitude), np.isnan(m))
    assert np.nanmax(np.abs(magnitude - m)) < 1e-5  # Float32 of a float64 value
    meta = gdal.Open(str(tmp_path / "change_class.tif")).GetMetadata()
    t = float(meta["RECLAIM_THRESHOLD"])
    assert meta["RECLAIM_THRESHOLD_METHOD"] == "otsu" and meta["RECLAIM_MAGNITUDE_BANDS"] == ",".join(MAGNITUDE_BANDS)
    assert ds.GetMetadata()["RECLAIM_THRESHOLD"] == meta["RECLAIM_THRESHOLD"]
    assert abs(t - otsu_reference(m)) <= BIN  # one bin: a pixel at a bin edge may fall either way
    direction, smallest = direction_reference(before, after)
    ds_dir, got = read(tmp_path / "change_direction.tif")
    sure = smallest > 1e-9  # a component this close to 0 may take either sign in float64
    assert np.array_equal(got[sure], direction[sure]) and set(np.unique(got)) == {0, 1, 2, 3, 4}
    band = ds_dir.GetRasterBand(1)
    assert band.GetNoDataValue() == 0  # GDAL 3.6 reads the .aux.xml (category names) on this first query
    assert band.GetCategoryNames()[1].startswith("greening")
    assert f"otsu threshold {meta['RECLAIM_THRESHOLD']}" in proc.stderr
    expected = gated_reference(epoch(before), epoch(after), m, t)
    _, classes = read(tmp_path / "change_class.tif")
    near_threshold = np.abs(m - t) < 1e-9
    assert np.array_equal(classes[~near_threshold], expected[~near_threshold])
    changed = np.isin(classes, (2, 3, 5, 7, 8, 9))
    assert 0.01 < changed.mean() < 0.9, changed.mean()  # the demo pair changed, but not everywhere
    assert set(np.unique(classes)) >= {0, 1, 2, 4, 5, 10}


def write_reflectance_version(src, dst, gain=1.0, bias=0.0):
    """The scene as Float32 reflectance (x gain + bias per band, NaN for nodata), SCL kept."""
    ds = gdal.Open(str(src))
    out = gdal.GetDriverByName("GTiff").Create(str(dst), ds.RasterXSize, ds.RasterYSize, 7, gdal.GDT_Float32)
    out.SetGeoTransform(ds.GetGeoTransform())
    out.SetProjection(ds.GetProjection())
    for b in range(6):
        dn = ds.GetRasterBand(b + 1).ReadAsArray()
        refl = s2_reflectance(dn) * (gain + 0.05 * b) + bias * b
        out.GetRasterBand(b + 1).WriteArray(refl.astype(np.float32))
    out.GetRasterBand(7).WriteArray(ds.GetRasterBand(7).ReadAsArray().astype(np.float32))
    out = None
    return dst


def test_dn_toa_and_surface_reflectance_give_the_same_gate(pair, reclaim_bin, tmp_path):
    """The standardised magnitude does not see a per-band gain and offset (DN vs reflectance vs a
    TOA-like affine version of the scene): the changed/stable gate is the same."""
    before, after = pair
    generic = ["--sensor", "generic", "--bands", "blue=1,green=2,red=3,nir=4,swir1=5,swir2=6", "--mask-band", "7",
               "--mask-values", "3,8,9,10", "--threshold", "otsu", "--quiet"]
    runs = {}
    for name, files, extra in (
            ("dn", (before, after), ["--scale", "0.0001", "--nodata", "0"]),
            ("toa", tuple(write_reflectance_version(p, tmp_path / f"toa_{p.name}", 0.8, 0.01) for p in pair), ["--scale", "1"])):
        run_reclaim(reclaim_bin, "change", "--before", files[0], "--after", files[1], *generic, *extra,
                    "--out", tmp_path / name)
        runs[name] = (read(tmp_path / name / "change_class.tif")[1], read(tmp_path / name / "change_magnitude.tif")[1])
    (dn_classes, dn_m), (toa_classes, toa_m) = runs["dn"], runs["toa"]
    assert np.array_equal(np.isnan(dn_m), np.isnan(toa_m))
    assert np.nanmax(np.abs(dn_m - toa_m)) < 1e-4
    changed = (2, 3, 5, 7, 8, 9)
    assert np.mean(np.isin(dn_classes, changed) == np.isin(toa_classes, changed)) > 0.9999


def test_normalisation_recovers_a_per_band_gain_and_offset(pair, reclaim_bin, tmp_path):
    """--normalise pif: an after epoch that is the before epoch through a per-band gain and offset
    (another sensor's calibration), except a block that really changed. The unchanged pixels lie
    on the line after = o + g before exactly, so the fit must find g and o, and the normalised
    after epoch's NDVI must equal the before epoch's there (dNDVI 0); without it, it does not."""
    before, _ = pair
    ds = gdal.Open(str(before))
    dn = [ds.GetRasterBand(b + 1).ReadAsArray() for b in range(7)]
    refl = np.stack([s2_reflectance(d) for d in dn[:6]])
    after = refl.copy()
    block = (slice(100, 220), slice(150, 420))
    for k, (v0, v1) in enumerate(zip((0.03, 0.06, 0.03, 0.45, 0.20, 0.10), (0.12, 0.16, 0.30, 0.18, 0.38, 0.33))):
        refl[k][block] = v0  # vegetation before, cleared to bare ground after
        after[k][block] = v1
    gain, offset = (0.9, 0.95, 1.1, 1.2, 0.85, 1.0), (0.01, 0.02, -0.01, 0.03, 0.0, 0.015)
    other_sensor = np.stack([g * a + o for g, a, o in zip(gain, after, offset)])
    files = []
    for name, planes in (("b.tif", refl), ("a.tif", other_sensor)):
        out = gdal.GetDriverByName("GTiff").Create(str(tmp_path / name), ds.RasterXSize, ds.RasterYSize, 7,
                                                   gdal.GDT_Float32)
        out.SetGeoTransform(ds.GetGeoTransform())
        out.SetProjection(ds.GetProjection())
        for k in range(6):
            out.GetRasterBand(k + 1).WriteArray(planes[k].astype(np.float32))
        out.GetRasterBand(7).WriteArray(dn[6].astype(np.float32))
        out = None
        files.append(tmp_path / name)
    common = ["change", "--before", files[0], "--after", files[1], "--sensor", "generic", "--bands",
              "blue=1,green=2,red=3,nir=4,swir1=5,swir2=6", "--mask-band", "7", "--mask-values", "3,8,9,10",
              "--scale", "1", "--quiet"]
    run_reclaim(reclaim_bin, *common, "--normalise", "pif", "--out", tmp_path / "n")
    run_reclaim(reclaim_bin, *common, "--out", tmp_path / "raw")
    meta = gdal.Open(str(tmp_path / "n" / "change_class.tif")).GetMetadata()
    assert meta["RECLAIM_NORMALISATION"].startswith("pif")
    for k, role in enumerate(["blue", "green", "red", "nir", "swir1"]):  # the bands the pass reads
        fit = dict(item.split("=") for item in meta[f"RECLAIM_NORMALISATION_{role.upper()}"].split())
        assert abs(float(fit["b"]) - gain[k]) < 1e-5 and abs(float(fit["a"]) - offset[k]) < 1e-5, (role, fit)
    valid = ~np.isin(dn[6], S2_MASKED_SCL) & np.isfinite(refl).all(axis=0)
    unchanged = valid.copy()
    unchanged[block] = False
    d_norm = read(tmp_path / "n" / "dndvi.tif")[1]
    d_raw = read(tmp_path / "raw" / "dndvi.tif")[1]
    assert np.nanmax(np.abs(d_norm[unchanged])) < 1e-4
    assert np.nanmean(np.abs(d_raw[unchanged])) > 0.01  # the gains differ between red and NIR
    # The block changed either way: the gate does not depend on the normalisation.
    for run in ("n", "raw"):
        classes = read(tmp_path / run / "change_class.tif")[1]
        assert np.isin(classes[block][valid[block]], (2, 3, 5, 7, 8, 9)).mean() > 0.99


def test_a_rules_file_can_read_the_magnitude(pair, reclaim_bin, tmp_path):
    """A rules file's class on `magnitude >= 3`, placed before the defaults: the standardisation
    runs for it (without it every pixel would be nodata), and the class is where numpy's
    magnitude is at least 3; elsewhere the rule classes as usual. With --magnitude the raster too."""
    before, after = pair
    rules = tmp_path / "rules.toml"
    rules.write_text('mode = "prepend"\n[[classes]]\nvalue = 20\nname = "large change"\ncolour = "#ff00ff"\n'
                     '[[rules]]\nclass = 20\nwhen = ["magnitude >= 3"]\n')
    run_reclaim(reclaim_bin, "change", "--before", before, "--after", after, "--rules", rules, "--magnitude",
                "--out", tmp_path / "o", "--quiet")
    m = magnitude_reference(before, after)
    expected, _ = classify(epoch(before), epoch(after))
    with np.errstate(invalid="ignore"):
        expected[(expected != 0) & (m >= 3)] = 20
    expected[np.isnan(m) & (expected != 0)] = 0
    classes = read(tmp_path / "o" / "change_class.tif")[1]
    near = np.abs(m - 3) < 1e-9
    assert np.array_equal(classes[~near], expected[~near])
    assert 0 < (classes == 20).mean() < 0.5
    assert np.nanmax(np.abs(read(tmp_path / "o" / "change_magnitude.tif")[1] - m)) < 1e-5


def test_a_scene_compared_with_itself_has_no_change(pair, reclaim_bin, tmp_path):
    """Magnitude 0 everywhere: Otsu has nothing to separate. Every pixel is stable, with a warning
    (the run used to be refused: no threshold)."""
    before, _ = pair
    proc = run_reclaim(reclaim_bin, "change", "--before", before, "--after", before, "--out", tmp_path / "o")
    assert "no two classes to separate" in proc.stderr and "every pixel is stable" in proc.stderr
    classes = read(tmp_path / "o" / "change_class.tif")[1]
    assert not np.isin(classes, (2, 3, 5, 7, 8, 9)).any()
    assert np.isin(classes, (1, 4, 6, 10)).mean() > 0.5


def test_threshold_and_rules_together_are_refused(pair, reclaim_bin, tmp_path):
    before, after = pair
    rules = tmp_path / "r.json"
    rules.write_text('{"thresholds": {"ndvi_bare": 0.25}}')
    proc = run_reclaim(reclaim_bin, "change", "--before", before, "--after", after, "--rules", rules, "--threshold",
                       "otsu", "--out", tmp_path / "o", check=False)
    assert proc.returncode == 2 and "--threshold gates the built-in classes" in proc.stderr
    assert not (tmp_path / "o").exists()
    proc = run_reclaim(reclaim_bin, "change", "--before", before, "--after", after, "--rules", rules,
                       "--dndvi-threshold", "otsu", "--out", tmp_path / "o", check=False)
    assert proc.returncode == 2 and "a rules file sets them itself" in proc.stderr
    proc = run_reclaim(reclaim_bin, "change", "--before", before, "--after", after, "--dndvi-threshold", "3",
                       "--out", tmp_path / "o", check=False)
    assert proc.returncode == 2 and "--dndvi-threshold 3" in proc.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("sensor, extra, normalised", [
    ("sentinel2-l1c", [], True),  # top-of-atmosphere: pif by default
    ("sentinel2-l1c", ["--normalise", "none"], False),
    ("sentinel2-l2a", [], False),  # surface reflectance: none by default
])
def test_normalisation_default_follows_the_product_level(pair, reclaim_bin, tmp_path, sensor, extra, normalised):
    before, after = pair
    proc = run_reclaim(reclaim_bin, "change", "--before", before, "--after", after, "--sensor", sensor,
                       "--boa-offset", "0", *extra, "--out", tmp_path / "o")
    meta = gdal.Open(str(tmp_path / "o" / "change_class.tif")).GetMetadata()
    assert ("RECLAIM_NORMALISATION" in meta) == normalised
    announced = "radiometric normalisation (pif) by default for top-of-atmosphere input (sentinel2-l1c)"
    assert (announced in proc.stderr) == (normalised and not extra)
    if normalised:  # a fit near identity for this pair (the invariant quarter), not a wild slope
        for role in ("blue", "green", "red", "nir", "swir1"):
            fit = dict(item.split("=") for item in meta[f"RECLAIM_NORMALISATION_{role.upper()}"].split())
            assert 0.8 < float(fit["b"]) < 1.25, (role, fit)


def test_dndvi_threshold_from_otsu(pair, reclaim_bin, tmp_path):
    """--dndvi-threshold otsu: the gain and loss thresholds are Otsu's cut of the |dNDVI| histogram
    (bins of 1/256 from 0), numpy's within one bin; the rule classes then equal numpy's with that
    gain and loss."""
    before, after = pair
    proc = run_reclaim(reclaim_bin, "change", "--before", before, "--after", after, "--threshold", "none",
                       "--dndvi-threshold", "otsu", "--out", tmp_path / "o")
    meta = gdal.Open(str(tmp_path / "o" / "change_class.tif")).GetMetadata()
    t = float(meta["RECLAIM_DNDVI_THRESHOLD"])
    b, a = epoch(before), epoch(after)
    clear = reflectance_stack(before)[1] & reflectance_stack(after)[1]
    d = np.abs(np.where(clear, a["ndvi"] - b["ndvi"], np.nan))
    assert abs(t - otsu_reference(d)) <= BIN
    assert f"dNDVI: otsu threshold {meta['RECLAIM_DNDVI_THRESHOLD']}" in proc.stderr
    expected, dd = classify(b, a, gain=t, loss=-t)
    classes = read(tmp_path / "o" / "change_class.tif")[1]
    near = np.abs(np.abs(dd) - t) < 1e-9
    assert np.array_equal(classes[~near], expected[~near])
    assert meta["RECLAIM_RULE_3"].endswith(f"dndvi <= -{meta['RECLAIM_DNDVI_THRESHOLD']}")
