"""Sensor presets and their defaults (docs/sensors.md, docs/reliability.md): nothing is read
with a guessed calibration or mask unnoticed. An assumed preset is announced in one warning
line, an input that does not fit the assumed preset is refused, the metadata names the quality
mask that was really applied, and the Sentinel-2 L1C and Landsat Collection 2 Level-1 presets
and per-band calibration in the band map give the reflectance computed here in float64."""
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal

from conftest import S2_BANDS, run_reclaim, s2_like_planes, utm49_srs, write_raster

gdal.UseExceptions()
EXIT_USAGE, EXIT_INPUT = 2, 3
GT = (600000.0, 10.0, 0.0, 4300000.0, 0.0, -10.0)
H, W = 40, 56


def read(path):
    ds = gdal.Open(str(path))
    return ds.GetRasterBand(1).ReadAsArray().astype(np.float64), ds.GetMetadata()


def warnings_of(stderr):
    return [line for line in stderr.splitlines() if line.startswith("reclaim: warning:")]


def ndvi(nir, red):
    with np.errstate(divide="ignore", invalid="ignore"):
        s = nir + red
        return np.where(s == 0, np.nan, (nir - red) / s)


def valid(dn):
    """The presets' invalid DNs: 0 (no data) and 65535 (saturated)."""
    return (dn != 0) & (dn != 65535)


def assert_close(actual, expected):
    """Outputs are Float32 of a double computation: compare at float32 precision."""
    np.testing.assert_allclose(actual, expected.astype(np.float32).astype(np.float64), rtol=2e-6, atol=2e-7,
                               equal_nan=True)


@pytest.fixture(scope="module")
def planes():
    bands, scl = s2_like_planes(np.random.default_rng(1010), H, W)
    return bands, scl


def write_l1c_folder(folder, bands, mtd=None):
    """A Sentinel-2 L1C product folder as delivered: one file per band, no SCL."""
    img = folder / "GRANULE" / "L1C_T49SDU_A031234_20250704T032541" / "IMG_DATA"
    img.mkdir(parents=True)
    for name, plane in zip(S2_BANDS, bands):
        write_raster(img / f"T49SDU_20250704T032541_{name}.tif", [plane], GT, utm49_srs())
    if mtd is not None:
        (folder / "MTD_MSIL1C.xml").write_text(mtd)
    return folder


def mtd_msil1c(offsets):
    """The parts of a real MTD_MSIL1C.xml reclaim reads (layout of processing baseline 05.10;
    `offsets` False: a baseline before 04.00, which has no RADIO_ADD_OFFSET elements)."""
    radio = "".join(f'<RADIO_ADD_OFFSET band_id="{i}">-1000</RADIO_ADD_OFFSET>\n' for i in range(13)) if offsets else ""
    return f"""<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<n1:Level-1C_User_Product xmlns:n1="https://psd-14.sentinel2.eo.esa.int/PSD/User_Product_Level-1C.xsd">
<n1:General_Info><Product_Info><PROCESSING_BASELINE>{"05.10" if offsets else "02.04"}</PROCESSING_BASELINE>
</Product_Info><Product_Image_Characteristics>
<QUANTIFICATION_VALUE unit="none">10000</QUANTIFICATION_VALUE>
{radio}</Product_Image_Characteristics></n1:General_Info></n1:Level-1C_User_Product>
"""


# --- 1. a quality mask that was not applied is never claimed ------------------------------------


def test_l2a_preset_on_an_l1c_folder_says_unmasked(reclaim_bin, tmp_path, planes):
    bands, _ = planes
    folder = write_l1c_folder(tmp_path / "S2A_MSIL1C_20250704T032541_N0511_R018_T49SDU.SAFE", bands)
    proc = run_reclaim(reclaim_bin, "indices", "--input", folder, "--sensor", "sentinel2-l2a", "--boa-offset", "0",
                       "--index", "ndvi", "--out", tmp_path / "out")
    lines = warnings_of(proc.stderr)
    assert len(lines) == 1 and "no SCL band found" in lines[0] and "not cloud-masked" in lines[0], proc.stderr
    assert str(folder) in lines[0]
    actual, meta = read(tmp_path / "out" / "ndvi.tif")
    assert meta["RECLAIM_MASK"] == "none"
    assert "no quality mask" in meta["RECLAIM_NODATA"] and "cloud" not in meta["RECLAIM_NODATA"]
    red, nir = bands[2].astype(np.float64), bands[3].astype(np.float64)
    expected = np.where(valid(bands[2]) & valid(bands[3]), ndvi(nir * 1e-4, red * 1e-4), np.nan)
    assert_close(actual, expected)


def test_mask_metadata_names_the_applied_mask(reclaim_bin, tmp_path, planes):
    bands, scl = planes
    scene = write_raster(tmp_path / "scene.tif", bands + [scl], GT, utm49_srs())
    run_reclaim(reclaim_bin, "indices", "--input", scene, "--sensor", "sentinel2-l2a", "--boa-offset", "0",
                "--index", "ndvi", "--out", tmp_path / "masked")
    _, meta = read(tmp_path / "masked" / "ndvi.tif")
    assert meta["RECLAIM_MASK"] == f"SCL classes 3,8,9,10 (band 7 of {scene})"
    assert "masked by SCL classes 3,8,9,10" in meta["RECLAIM_NODATA"]
    run_reclaim(reclaim_bin, "indices", "--input", scene, "--sensor", "sentinel2-l2a", "--boa-offset", "0",
                "--mask-band", "none", "--index", "ndvi", "--out", tmp_path / "unmasked")
    _, meta = read(tmp_path / "unmasked" / "ndvi.tif")
    assert meta["RECLAIM_MASK"] == "none" and "no quality mask" in meta["RECLAIM_NODATA"]


def test_change_metadata_names_each_epochs_mask(reclaim_bin, tmp_path, planes):
    bands, scl = planes
    scene = write_raster(tmp_path / "scene.tif", bands + [scl], GT, utm49_srs())
    run_reclaim(reclaim_bin, "change", "--before", scene, "--after", scene, "--sensor", "sentinel2-l2a",
                "--boa-offset", "0", "--mask-band", "none", "--out", tmp_path / "out")
    for name in ("dndvi.tif", "change_class.tif"):
        _, meta = read(tmp_path / "out" / name)
        assert meta["RECLAIM_BEFORE_MASK"] == "none" and meta["RECLAIM_AFTER_MASK"] == "none", name
    _, meta = read(tmp_path / "out" / "dndvi.tif")
    assert "no quality mask" in meta["RECLAIM_NODATA"]


def test_explicit_mask_that_masks_nothing_is_refused(reclaim_bin, tmp_path, planes):
    bands, scl = planes
    scene = write_raster(tmp_path / "scene.tif", bands + [scl], GT, utm49_srs())
    # generic masks nothing by default: --mask-band alone would silently run unmasked
    proc = run_reclaim(reclaim_bin, "indices", "--input", scene, "--sensor", "generic", "--scale", "1e-4",
                       "--bands", "red=3,nir=4", "--mask-band", "7", "--out", tmp_path / "a", check=False)
    assert proc.returncode == EXIT_USAGE and "--mask-band 7" in proc.stderr and "--mask-values" in proc.stderr
    # mask values without any quality band
    proc = run_reclaim(reclaim_bin, "indices", "--input", scene, "--sensor", "generic", "--scale", "1e-4",
                       "--bands", "red=3,nir=4", "--mask-values", "3,8", "--out", tmp_path / "b", check=False)
    assert proc.returncode == EXIT_USAGE and "--mask-band" in proc.stderr and str(scene) in proc.stderr
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


# --- 2. an assumed preset is announced; an input that does not fit it is refused ---------------


def test_assumed_preset_warns_once_and_is_applied(reclaim_bin, tmp_path, planes):
    bands, scl = planes
    scene = write_raster(tmp_path / "scene.tif", bands + [scl], GT, utm49_srs())
    proc = run_reclaim(reclaim_bin, "indices", "--input", scene, "--index", "ndvi", "--out", tmp_path / "out")
    lines = warnings_of(proc.stderr)
    assert len(lines) == 1, proc.stderr
    line = lines[0]
    for part in (str(scene), "no --sensor given", "sentinel2-l2a", "reflectance = DN x 0.0001",
                 "SCL classes 3,8,9,10", "give --sensor"):
        assert part in line, (part, line)
    actual, meta = read(tmp_path / "out" / "ndvi.tif")
    red, nir = bands[2].astype(np.float64) * 1e-4, bands[3].astype(np.float64) * 1e-4
    ok = valid(bands[2]) & valid(bands[3]) & ~np.isin(scl, [3, 8, 9, 10])
    assert_close(actual, np.where(ok, ndvi(nir, red), np.nan))
    assert meta["RECLAIM_SENSOR"] == "sentinel2-l2a" and meta["RECLAIM_CALIBRATION"] == "reflectance = DN x 0.0001"


def landsat_dns(rng, shape):
    """Landsat 8/9 C2 L2 surface reflectance DNs (reflectance = DN x 2.75e-5 - 0.2)."""
    refl = rng.uniform(0.02, 0.45, shape)
    return ((refl + 0.2) / 2.75e-5).round().astype(np.uint16)


def test_six_band_file_without_sensor_is_refused(reclaim_bin, tmp_path):
    rng = np.random.default_rng(6)
    scene = write_raster(tmp_path / "landsat6.tif", [landsat_dns(rng, (H, W)) for _ in range(6)], GT, utm49_srs())
    proc = run_reclaim(reclaim_bin, "indices", "--input", scene, "--index", "ndvi", "--out", tmp_path / "out",
                       check=False)
    assert proc.returncode == EXIT_USAGE, proc.stderr
    assert str(scene) in proc.stderr and "no SCL band" in proc.stderr and "--sensor" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
    # told what it is, it runs: the Landsat C2 L2 preset, no quality band (said so)
    proc = run_reclaim(reclaim_bin, "indices", "--input", scene, "--sensor", "landsat-c2l2", "--index", "ndvi",
                       "--out", tmp_path / "out")
    assert "no QA_PIXEL band found" in proc.stderr


def test_other_presets_band_names_without_sensor_are_refused(reclaim_bin, tmp_path):
    rng = np.random.default_rng(7)
    planes = [landsat_dns(rng, (H, W)) for _ in range(6)] + [np.full((H, W), 21824, np.uint16)]
    names = ["SR_B2", "SR_B3", "SR_B4", "SR_B5", "SR_B6", "SR_B7", "QA_PIXEL"]
    scene = write_raster(tmp_path / "landsat7.tif", planes, GT, utm49_srs(), descriptions=names)
    proc = run_reclaim(reclaim_bin, "indices", "--input", scene, "--out", tmp_path / "out", check=False)
    assert proc.returncode == EXIT_USAGE and "SR_B2" in proc.stderr and "landsat-c2l2" in proc.stderr, proc.stderr
    assert not (tmp_path / "out").exists()


def test_l1c_folder_without_sensor_is_refused(reclaim_bin, tmp_path, planes):
    bands, _ = planes
    folder = write_l1c_folder(tmp_path / "S2B_MSIL1C.SAFE", bands)
    proc = run_reclaim(reclaim_bin, "indices", "--input", folder, "--out", tmp_path / "out", check=False)
    assert proc.returncode == EXIT_USAGE, proc.stderr
    assert str(folder) in proc.stderr and "no SCL band" in proc.stderr and "sentinel2-l1c" in proc.stderr
    assert not (tmp_path / "out").exists()


# --- 3. Sentinel-2 L1C and Landsat Collection 2 Level-1 -----------------------------------------


@pytest.mark.parametrize("mtd, boa, dn_offset, warned", ids=["assumed", "mtd-pb0510", "mtd-pb0204", "told"], argvalues=[
    (None, None, -1000.0, True),               # assumed baseline >= 04.00, with a warning
    (mtd_msil1c(True), None, -1000.0, False),  # read from MTD_MSIL1C.xml
    (mtd_msil1c(False), None, 0.0, False),     # a pre-04.00 product: no RADIO_ADD_OFFSET
    (None, "0", 0.0, False),                   # told
])
def test_sentinel2_l1c_preset(reclaim_bin, tmp_path, planes, mtd, boa, dn_offset, warned):
    bands, _ = planes
    folder = write_l1c_folder(tmp_path / "S2A_MSIL1C.SAFE", bands, mtd)
    args = ["--boa-offset", boa] if boa else []
    proc = run_reclaim(reclaim_bin, "indices", "--input", folder, "--sensor", "sentinel2-l1c", *args,
                       "--index", "red,ndvi", "--out", tmp_path / "out")
    lines = warnings_of(proc.stderr)
    if warned:
        assert len(lines) == 1 and "assuming processing baseline 04.00 or later" in lines[0], proc.stderr
        assert "(DN - 1000) x 0.0001" in lines[0] and "--boa-offset 0" in lines[0]
    else:
        assert lines == [], proc.stderr
    refl = {}
    for k, name in ((2, "red"), (3, "nir")):
        dn = bands[k]
        refl[name] = np.where(valid(dn), (dn.astype(np.float64) + dn_offset) / 10000.0, np.nan)
    assert_close(read(tmp_path / "out" / "red.tif")[0], refl["red"])  # nir: through NDVI
    actual, meta = read(tmp_path / "out" / "ndvi.tif")
    assert_close(actual, ndvi(refl["nir"], refl["red"]))
    assert meta["RECLAIM_SENSOR"] == "sentinel2-l1c" and meta["RECLAIM_MASK"] == "none"
    assert meta["RECLAIM_CALIBRATION"] == ("reflectance = (DN - 1000) x 0.0001" if dn_offset else
                                           "reflectance = DN x 0.0001")


def test_real_l1c_before_baseline_04(reclaim_bin, tmp_path):
    """OSCD Chongqing, 2017-04-14: an L1C product from before processing baseline 04.00 (DN =
    reflectance x 10000), read with --boa-offset 0; the 20 m bands are not needed by NDVI."""
    real = os.environ.get("RECLAIM_REAL_DATA")
    folder = Path(real or "") / "s2-chongqing" / "imgs_1"
    if not real or not folder.is_dir():
        pytest.skip("real data (RECLAIM_REAL_DATA/s2-chongqing) not available")
    run_reclaim(reclaim_bin, "indices", "--input", folder, "--sensor", "sentinel2-l1c", "--boa-offset", "0",
                "--index", "ndvi", "--out", tmp_path / "out")
    red = gdal.Open(str(folder / "T48RXT_20170414T032541_B04.tif")).ReadAsArray()
    nir = gdal.Open(str(folder / "T48RXT_20170414T032541_B08.tif")).ReadAsArray()
    expected = np.where(valid(red) & valid(nir), ndvi(nir / 1e4, red / 1e4), np.nan)
    actual, meta = read(tmp_path / "out" / "ndvi.tif")
    assert_close(actual, expected)
    assert meta["RECLAIM_MASK"] == "none"


# A Landsat 9 L1TP MTL as USGS writes it (values of a real scene's layout; the per-band
# REFLECTANCE_* differ here, which real files do not, so that a band mix-up shows).
MTL_BANDS = {2: (2.0000e-05, -0.100000), 3: (2.0100e-05, -0.101000), 4: (1.9800e-05, -0.098000),
             5: (2.0500e-05, -0.103000), 6: (1.9500e-05, -0.097000), 7: (2.0200e-05, -0.102000)}
SUN_ELEVATION = 58.61392187
PRODUCT = "LC09_L1TP_123032_20230601_20230601_02_T1"


def mtl_text(sun_elevation=SUN_ELEVATION):
    rescaling = "".join(f"    RADIANCE_MULT_BAND_{b} = {1.2e-2 + b * 1e-4:.4E}\n    RADIANCE_ADD_BAND_{b} = -61.5\n"
                        for b in range(1, 10))
    rescaling += "".join(f"    REFLECTANCE_MULT_BAND_{b} = {m:.4E}\n    REFLECTANCE_ADD_BAND_{b} = {a:.6f}\n"
                         for b, (m, a) in sorted(MTL_BANDS.items()))
    files = "".join(f'    FILE_NAME_BAND_{b} = "{PRODUCT}_B{b}.TIF"\n' for b in range(1, 12))
    return f"""GROUP = LANDSAT_METADATA_FILE
  GROUP = PRODUCT_CONTENTS
    ORIGIN = "Image courtesy of the U.S. Geological Survey"
    LANDSAT_PRODUCT_ID = "{PRODUCT}"
    PROCESSING_LEVEL = "L1TP"
    COLLECTION_NUMBER = 02
{files}    FILE_NAME_QUALITY_L1_PIXEL = "{PRODUCT}_QA_PIXEL.TIF"
  END_GROUP = PRODUCT_CONTENTS
  GROUP = IMAGE_ATTRIBUTES
    SPACECRAFT_ID = "LANDSAT_9"
    SENSOR_ID = "OLI_TIRS"
    DATE_ACQUIRED = 2023-06-01
    SUN_AZIMUTH = 127.53960912
    SUN_ELEVATION = {sun_elevation}
    EARTH_SUN_DISTANCE = 1.0140515
  END_GROUP = IMAGE_ATTRIBUTES
  GROUP = LEVEL1_MIN_MAX_REFLECTANCE
    REFLECTANCE_MAXIMUM_BAND_4 = 1.210700
    REFLECTANCE_MINIMUM_BAND_4 = -0.099980
  END_GROUP = LEVEL1_MIN_MAX_REFLECTANCE
  GROUP = LEVEL1_RADIOMETRIC_RESCALING
{rescaling}  END_GROUP = LEVEL1_RADIOMETRIC_RESCALING
END_GROUP = LANDSAT_METADATA_FILE
END
"""


def mtl_json():
    rescaling = {}
    for b, (m, a) in MTL_BANDS.items():
        rescaling[f"REFLECTANCE_MULT_BAND_{b}"] = f"{m:.4E}"
        rescaling[f"REFLECTANCE_ADD_BAND_{b}"] = f"{a:.6f}"
    return json.dumps({"LANDSAT_METADATA_FILE": {
        "PRODUCT_CONTENTS": {"LANDSAT_PRODUCT_ID": PRODUCT, "PROCESSING_LEVEL": "L1TP"},
        "IMAGE_ATTRIBUTES": {"SPACECRAFT_ID": "LANDSAT_9", "SUN_ELEVATION": f"{SUN_ELEVATION}"},
        "LEVEL1_RADIOMETRIC_RESCALING": rescaling}}, indent=2)


@pytest.fixture(scope="module")
def landsat_l1(tmp_path_factory):
    """L1 DNs (UInt16, fill 0) for OLI bands 2..7 and a QA_PIXEL with clear, cloud, shadow, fill."""
    rng = np.random.default_rng(99)
    dns = {b: rng.integers(6000, 30000, (H, W)).astype(np.uint16) for b in MTL_BANDS}
    dns[4][0, :5] = 0  # fill
    qa = rng.choice([21824, 21952, 22280, 23888, 1, 55052], size=(H, W),
                    p=[0.6, 0.1, 0.1, 0.1, 0.05, 0.05]).astype(np.uint16)
    return dns, qa


def expected_l1(dns, qa, band):
    m, a = MTL_BANDS[band]
    rho = (m * dns[band].astype(np.float64) + a) / math.sin(math.radians(SUN_ELEVATION))
    return np.where(valid(dns[band]) & ((qa & 0x1F) == 0), rho, np.nan)


def test_landsat_c2l1_folder_with_mtl_txt(reclaim_bin, tmp_path, landsat_l1):
    dns, qa = landsat_l1
    folder = tmp_path / PRODUCT
    folder.mkdir()
    for b, plane in dns.items():
        write_raster(folder / f"{PRODUCT}_B{b}.TIF", [plane], GT, utm49_srs())
    write_raster(folder / f"{PRODUCT}_QA_PIXEL.TIF", [qa], GT, utm49_srs())
    (folder / f"{PRODUCT}_MTL.txt").write_text(mtl_text())
    proc = run_reclaim(reclaim_bin, "indices", "--input", folder, "--sensor", "landsat-c2l1",
                       "--index", "red,ndvi", "--out", tmp_path / "out")
    assert warnings_of(proc.stderr) == [], proc.stderr
    red, nir = expected_l1(dns, qa, 4), expected_l1(dns, qa, 5)
    assert_close(read(tmp_path / "out" / "red.tif")[0], red)
    actual, meta = read(tmp_path / "out" / "ndvi.tif")
    assert_close(actual, ndvi(nir, red))
    assert meta["RECLAIM_SENSOR"] == "landsat-c2l1"
    assert meta["RECLAIM_MASK"] == f"QA_PIXEL bits 0x1F ({folder / (PRODUCT + '_QA_PIXEL.TIF')})"


def test_landsat_c2l1_multiband_with_mtl_json(reclaim_bin, tmp_path, landsat_l1):
    dns, qa = landsat_l1
    scene = write_raster(tmp_path / "l1.tif", [dns[b] for b in sorted(dns)] + [qa], GT, utm49_srs())
    mtl = tmp_path / "meta" / f"{PRODUCT}_MTL.json"
    mtl.parent.mkdir()
    mtl.write_text(mtl_json())
    run_reclaim(reclaim_bin, "indices", "--input", scene, "--sensor", "landsat-c2l1", "--mtl", mtl,
                "--index", "ndvi,bsi", "--out", tmp_path / "out")
    red, nir = expected_l1(dns, qa, 4), expected_l1(dns, qa, 5)
    assert_close(read(tmp_path / "out" / "ndvi.tif")[0], ndvi(nir, red))
    blue, swir1 = expected_l1(dns, qa, 2), expected_l1(dns, qa, 6)
    assert_close(read(tmp_path / "out" / "bsi.tif")[0], ndvi(swir1 + red, nir + blue))


def test_landsat_c2l1_needs_a_good_mtl(reclaim_bin, tmp_path, landsat_l1):
    dns, qa = landsat_l1
    scene = write_raster(tmp_path / "l1.tif", [dns[b] for b in sorted(dns)] + [qa], GT, utm49_srs())
    proc = run_reclaim(reclaim_bin, "indices", "--input", scene, "--sensor", "landsat-c2l1", "--out",
                       tmp_path / "a", check=False)
    assert proc.returncode == EXIT_INPUT and str(scene) in proc.stderr and "MTL" in proc.stderr, proc.stderr
    night = tmp_path / f"{PRODUCT}_MTL.txt"
    night.write_text(mtl_text(sun_elevation=-3.5))
    proc = run_reclaim(reclaim_bin, "indices", "--input", scene, "--sensor", "landsat-c2l1", "--out",
                       tmp_path / "b", check=False)
    assert proc.returncode == EXIT_INPUT and str(night) in proc.stderr and "SUN_ELEVATION" in proc.stderr
    night.write_text(mtl_text().replace("REFLECTANCE_ADD_BAND_5", "REFLECTANCE_ADD_BAND_X"))
    proc = run_reclaim(reclaim_bin, "indices", "--input", scene, "--sensor", "landsat-c2l1", "--out",
                       tmp_path / "c", check=False)
    assert proc.returncode == EXIT_INPUT and "REFLECTANCE_ADD_BAND_5" in proc.stderr, proc.stderr
    assert not any((tmp_path / d).exists() for d in "abc")


# --- 4. per-band calibration in the band map ----------------------------------------------------


def test_per_band_scale_and_offset(reclaim_bin, tmp_path, planes):
    bands, scl = planes
    red_file = write_raster(tmp_path / "red.tif", [bands[2]], GT, utm49_srs(), nodata=0)
    scene = write_raster(tmp_path / "scene.tif", bands + [scl], GT, utm49_srs(), nodata=0)
    run_reclaim(reclaim_bin, "indices", "--sensor", "generic", "--input", scene, "--bands",
                f"red={red_file}:scale=2e-5:offset=-0.1,nir=4:dn-offset=-1000:scale=1e-4", "--mask-band", "none",
                "--index", "red,ndvi", "--out", tmp_path / "out")
    red = np.where(bands[2] != 0, bands[2] * 2e-5 - 0.1, np.nan)
    nir = np.where(bands[3] != 0, (bands[3].astype(np.float64) - 1000) * 1e-4, np.nan)
    assert_close(read(tmp_path / "out" / "red.tif")[0], red)
    actual, meta = read(tmp_path / "out" / "ndvi.tif")
    assert_close(actual, ndvi(nir, red))
    assert meta["RECLAIM_CALIBRATION"] == "reflectance = red DN x 2e-05 - 0.1; nir (DN - 1000) x 0.0001"


def test_per_band_calibration_overrides_the_preset(reclaim_bin, tmp_path, planes):
    bands, scl = planes
    scene = write_raster(tmp_path / "scene.tif", bands + [scl], GT, utm49_srs())
    run_reclaim(reclaim_bin, "indices", "--input", scene, "--sensor", "sentinel2-l2a", "--boa-offset", "-1000",
                "--bands", "nir=4:scale=2e-4", "--index", "ndvi", "--out", tmp_path / "out")
    red = (bands[2].astype(np.float64) - 1000) * 1e-4
    nir = (bands[3].astype(np.float64) - 1000) * 2e-4
    ok = valid(bands[2]) & valid(bands[3]) & ~np.isin(scl, [3, 8, 9, 10])
    assert_close(read(tmp_path / "out" / "ndvi.tif")[0], np.where(ok, ndvi(nir, red), np.nan))


@pytest.mark.parametrize("item, problem", [
    ("red=3:scal=2e-5", "unknown key 'scal'"),
    ("red=3:scale=abc", "'abc' is not a number"),
    ("red=3:scale=1:scale=2", "scale given twice"),
    ("red=:scale=1", "expected role=N or role=FILE"),
])
def test_bad_band_calibration_is_refused(reclaim_bin, tmp_path, planes, item, problem):
    bands, scl = planes
    scene = write_raster(tmp_path / "scene.tif", bands + [scl], GT, utm49_srs())
    proc = run_reclaim(reclaim_bin, "indices", "--input", scene, "--sensor", "sentinel2-l2a", "--bands", item,
                       "--out", tmp_path / "out", check=False)
    assert proc.returncode == EXIT_USAGE and problem in proc.stderr and "--bands" in proc.stderr, proc.stderr


def test_generic_needs_a_scale_for_every_band(reclaim_bin, tmp_path, planes):
    bands, scl = planes
    scene = write_raster(tmp_path / "scene.tif", bands + [scl], GT, utm49_srs())
    proc = run_reclaim(reclaim_bin, "indices", "--input", scene, "--sensor", "generic",
                       "--bands", "red=3:scale=1e-4,nir=4", "--out", tmp_path / "out", check=False)
    assert proc.returncode == EXIT_USAGE and ":scale= on every --bands item" in proc.stderr, proc.stderr


# --- the Sentinel-2 offset of a multiband file, and what assess records -------------------------


def test_l2a_offset_from_the_files_metadata(reclaim_bin, tmp_path, planes):
    bands, scl = planes
    scene = write_raster(tmp_path / "pb04.tif", bands + [scl], GT, utm49_srs())
    ds = gdal.Open(str(scene), gdal.GA_Update)
    ds.SetMetadataItem("BOA_ADD_OFFSET", "-1000")
    ds.SetMetadataItem("QUANTIFICATION_VALUE", "10000")
    ds = None
    proc = run_reclaim(reclaim_bin, "indices", "--input", scene, "--sensor", "sentinel2-l2a", "--index", "red",
                       "--out", tmp_path / "a")
    assert warnings_of(proc.stderr) == [], proc.stderr
    ok = valid(bands[2]) & ~np.isin(scl, [3, 8, 9, 10])
    assert_close(read(tmp_path / "a" / "red.tif")[0], np.where(ok, (bands[2] - 1000.0) / 10000.0, np.nan))
    # without the item the baseline is a guess, and said to be one
    plain = write_raster(tmp_path / "plain.tif", bands + [scl], GT, utm49_srs())
    proc = run_reclaim(reclaim_bin, "indices", "--input", plain, "--sensor", "sentinel2-l2a", "--index", "red",
                       "--out", tmp_path / "b")
    lines = warnings_of(proc.stderr)
    assert len(lines) == 1 and "assuming processing baseline before 04.00" in lines[0], proc.stderr
    assert "--boa-offset -1000" in lines[0]


def test_assess_records_each_scenes_mask(reclaim_bin, tmp_path):
    demo = tmp_path / "demo"
    run_reclaim(reclaim_bin, "synth", "--out", demo, "--width", "200", "--height", "180")
    out = tmp_path / "out"
    run_reclaim(reclaim_bin, "assess", "--before", demo / "2019.tif", "--after", demo / "2025.tif",
                "--sites", demo / "sites.gpkg", "--id-field", "site_id", "--no-pictures", "--sensor", "sentinel2-l2a",
                "--mask-band", "none", "--out", out, "--quiet")
    summary = json.loads((out / "summary.json").read_text())
    manifest = json.loads((out / "manifest.json").read_text())
    for epoch in ("before", "after"):
        assert summary[epoch]["mask"] == "none" and summary[epoch]["sensor"] == "sentinel2-l2a"
        assert summary[epoch]["calibration"] == "reflectance = DN x 0.0001"  # BOA_ADD_OFFSET 0 in synth's files
        assert manifest["parameters"]["resolved"][f"{epoch}_scene"]["mask"] == "none"


def test_trend_metadata_names_each_epochs_mask(reclaim_bin, tmp_path, planes):
    bands, scl = planes
    masked = write_raster(tmp_path / "masked.tif", bands + [scl], GT, utm49_srs())
    unmasked = write_raster(tmp_path / "unmasked.tif", bands, GT, utm49_srs())  # no quality band
    years = (2019, 2020, 2021, 2022)

    def trend(paths, out):
        args = [a for y, p in zip(years, paths) for a in ("--epoch", f"{y}={p}")]
        return run_reclaim(reclaim_bin, "trend", *args, "--sensor", "sentinel2-l2a", "--boa-offset", "0",
                           "--out", tmp_path / out, check=False)

    # epochs of a trend share one band layout: one epoch without the SCL band is refused
    proc = trend([masked, masked, unmasked, masked], "mixed")
    assert proc.returncode == EXIT_INPUT and "unmasked.tif" in proc.stderr, proc.stderr
    assert trend([masked] * 4, "out").returncode == 0
    _, meta = read(tmp_path / "out" / "trend_slope.tif")
    assert meta["RECLAIM_MASK"] == "; ".join(f"{y}: SCL classes 3,8,9,10 (band 7 of {masked})" for y in years)
