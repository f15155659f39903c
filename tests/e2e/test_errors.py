"""Bad input gets one clear line naming the file and the problem, a documented exit code,
and leaves nothing half-written behind."""
import numpy as np
import pytest
from osgeo import gdal

from conftest import run_reclaim, s2_like_planes, utm49_srs, write_raster

EXIT_USAGE, EXIT_INPUT, EXIT_IO, EXIT_CUDA = 2, 3, 4, 5
GT = (600000.0, 10.0, 0.0, 4300000.0, 0.0, -10.0)


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    rng = np.random.default_rng(1)
    bands, scl = s2_like_planes(rng, 64, 80)
    return write_raster(tmp_path_factory.mktemp("err") / "s.tif", bands + [scl], GT, utm49_srs())


def fails(reclaim_bin, code, *args):
    proc = run_reclaim(reclaim_bin, *args, check=False)
    assert proc.returncode == code, f"exit {proc.returncode}, stderr: {proc.stderr}"
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("reclaim: error: "), proc.stderr
    return lines[0]


def test_missing_input_names_the_file(reclaim_bin, tmp_path):
    line = fails(reclaim_bin, EXIT_INPUT, "indices", "--input", tmp_path / "nope.tif", "--out", tmp_path / "o")
    assert "nope.tif" in line and "no such file" in line
    assert not (tmp_path / "o").exists(), "output folder created for a run that could not start"


def test_not_a_raster(reclaim_bin, tmp_path):
    bad = tmp_path / "notes.tif"
    bad.write_text("not a tiff")
    line = fails(reclaim_bin, EXIT_INPUT, "indices", "--input", bad, "--out", tmp_path / "o")
    assert "notes.tif" in line


def test_truncated_raster_fails_with_io_error_and_no_output(reclaim_bin, scene, tmp_path):
    data = scene.read_bytes()
    cut = tmp_path / "cut.tif"
    cut.write_bytes(data[: len(data) * 2 // 3])
    proc = run_reclaim(reclaim_bin, "indices", "--input", cut, "--out", tmp_path / "o", "--quiet", check=False)
    assert proc.returncode in (EXIT_INPUT, EXIT_IO), proc.stderr
    assert "cut.tif" in proc.stderr
    leftovers = list((tmp_path / "o").glob("*")) + list((tmp_path / "o").glob(".*")) if (tmp_path / "o").exists() else []
    assert leftovers == [], f"half-written files left: {leftovers}"


def test_usage_errors(reclaim_bin, scene, tmp_path):
    fails(reclaim_bin, EXIT_USAGE, "indices", "--input", scene)  # no --out
    line = fails(reclaim_bin, EXIT_USAGE, "indices", "--input", scene, "--out", tmp_path, "--index", "ndvx")
    assert "ndvx" in line
    fails(reclaim_bin, EXIT_USAGE, "indices", "--input", scene, "--out", tmp_path, "--sensor", "spot")
    fails(reclaim_bin, EXIT_USAGE, "indices", "--input", scene, "--out", tmp_path, "--memory-budget", "lots")
    fails(reclaim_bin, EXIT_USAGE, "indices", "--input", scene, "--out", tmp_path, "--device", "tpu")
    fails(reclaim_bin, EXIT_USAGE, "frobnicate")


def test_missing_band_is_named(reclaim_bin, tmp_path):
    rng = np.random.default_rng(2)
    path = write_raster(tmp_path / "rgbn.tif", [rng.integers(1, 200, (20, 20)).astype(np.uint16) for _ in range(4)],
                        GT, utm49_srs())
    line = fails(reclaim_bin, EXIT_INPUT, "indices", "--input", path, "--sensor", "generic", "--scale", "1e-4",
                 "--bands", "red=3,nir=4", "--index", "ndvi,ndmi", "--out", tmp_path / "o")
    assert "ndmi" in line and "swir1" in line


def test_band_number_out_of_range(reclaim_bin, scene, tmp_path):
    line = fails(reclaim_bin, EXIT_INPUT, "indices", "--input", scene, "--sensor", "generic", "--scale", "1e-4",
                 "--bands", "red=3,nir=12", "--out", tmp_path / "o")
    assert "s.tif" in line and "12" in line


def test_grids_that_do_not_nest(reclaim_bin, tmp_path):
    rng = np.random.default_rng(4)
    write_raster(tmp_path / "x_B04.tif", [rng.integers(1, 3000, (40, 40)).astype(np.uint16)], GT, utm49_srs())
    shifted = (GT[0] + 5.0, 10.0, 0.0, GT[3], 0.0, -10.0)
    write_raster(tmp_path / "x_B08.tif", [rng.integers(1, 3000, (40, 40)).astype(np.uint16)], shifted, utm49_srs())
    # --sensor: a folder without SCL is refused when the sensor is only assumed (test_sensors.py)
    line = fails(reclaim_bin, EXIT_INPUT, "indices", "--input", tmp_path, "--sensor", "sentinel2-l2a",
                 "--out", tmp_path / "o")
    assert "does not nest" in line


def test_cuda_demanded_without_gpu(reclaim_bin, scene, tmp_path):
    proc = run_reclaim(reclaim_bin, "indices", "--input", scene, "--out", tmp_path / "o", "--device", "cuda",
                       "--quiet", check=False)
    if proc.returncode == 0:
        pytest.skip("a CUDA device is present: nothing to refuse")
    assert proc.returncode == EXIT_CUDA, proc.stderr
    assert "cuda" in proc.stderr.lower()


def test_unwritable_output_folder(reclaim_bin, scene, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    # --quiet: the folder is created once the run is checked, after the "backend" info line
    line = fails(reclaim_bin, EXIT_IO, "indices", "--input", scene, "--out", blocker / "sub", "--quiet")
    assert "sub" in line


def _digest(path):
    import hashlib
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_output_that_is_an_input_is_refused(reclaim_bin, scene, tmp_path):
    """An output path naming one of the run's inputs must never replace it (a silently lost input)."""
    from osgeo import ogr
    d = tmp_path / "d"
    d.mkdir()
    # indices: --input d/ndvi.tif --out d would write d/ndvi.tif over its own input
    own = d / "ndvi.tif"
    own.write_bytes(scene.read_bytes())
    before = _digest(own)
    line = fails(reclaim_bin, EXIT_USAGE, "indices", "--input", own, "--index", "ndvi", "--out", d, "--quiet")
    assert "ndvi.tif" in line and "is also an input" in line, line
    line = fails(reclaim_bin, EXIT_USAGE, "indices", "--input", own, "--index", "ndvi", "--out", d, "--dry-run", "--quiet")
    assert "is also an input" in line, line
    assert _digest(own) == before

    # zonal: the zones file named as the table (same file through another spelling)
    zones = tmp_path / "s.gpkg"
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(zones))
    layer = ds.CreateLayer("sites", utm49_srs(), ogr.wkbPolygon)
    f = ogr.Feature(layer.GetLayerDefn())
    f.SetGeometry(ogr.CreateGeometryFromWkt(
        "POLYGON((600100 4299900,600400 4299900,600400 4299600,600100 4299600,600100 4299900))"))
    layer.CreateFeature(f)
    ds = None
    before = _digest(zones)
    line = fails(reclaim_bin, EXIT_USAGE, "zonal", "--raster", scene, "--zones", zones,
                 "--out", tmp_path / "d" / ".." / "s.gpkg", "--quiet")
    assert "s.gpkg" in line and "is also an input" in line, line
    assert _digest(zones) == before

    # merge: --partial or --out naming one of the partials
    part = tmp_path / "p.bin"
    run_reclaim(reclaim_bin, "zonal", "--raster", scene, "--zones", zones,
                "--stats", "count,mean", "--out", tmp_path / "t.csv", "--partial", part, "--quiet")
    before = _digest(part)
    line = fails(reclaim_bin, EXIT_USAGE, "merge", part, "--partial", part, "--quiet")
    assert "p.bin" in line and "is also an input" in line, line
    zones_before = _digest(zones)
    line = fails(reclaim_bin, EXIT_USAGE, "merge", part, "--out", zones, "--quiet")
    assert "s.gpkg" in line and "is also an input" in line, line
    assert _digest(part) == before and _digest(zones) == zones_before
