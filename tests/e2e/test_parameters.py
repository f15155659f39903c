"""Degenerate parameters are refused before anything is written (they used to run to exit 0
with all-NaN or meaningless products), ordinary I/O errors get their documented exit code and
name the file, and a full disk is reported as such (docs/reliability.md)."""
import json
import os
import subprocess

import pytest

from conftest import run_reclaim

EXIT_USAGE, EXIT_INPUT, EXIT_IO = 2, 3, 4


@pytest.fixture(scope="module")
def demo(reclaim_bin, tmp_path_factory):
    out = tmp_path_factory.mktemp("params") / "demo"
    run_reclaim(reclaim_bin, "synth", "--out", out, "--width", "160", "--height", "128")
    return out


def refused(reclaim_bin, code, out, *args):
    """Runs reclaim, expects exit `code` with one error line and no --out left; returns the line."""
    proc = run_reclaim(reclaim_bin, *args, "--out", out, "--quiet", check=False)
    assert proc.returncode == code, f"exit {proc.returncode}, stderr: {proc.stderr}"
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("reclaim: error: "), proc.stderr
    assert not out.exists(), "a refused run left its output behind"
    return lines[0]


def trend(demo, *extra):
    return ["trend", "--epoch", f"2019={demo / '2019.tif'}", "--epoch", f"2025={demo / '2025.tif'}",
            "--min-epochs", "2", *extra]


def assess(demo, *extra):
    return ["assess", "--before", f"2019={demo / '2019.tif'}", "--after", f"2025={demo / '2025.tif'}",
            "--sites", demo / "sites.gpkg", "--no-pictures", *extra]


def indices(demo, *extra):
    return ["indices", "--input", demo / "2019.tif", *extra]


# (arguments, words the one line must hold): each ran to exit 0 before.
CASES = {
    "rri without years": (lambda d: trend(d, "--products", "rri"), ["--restoration-year"]),
    "rri without disturbance year": (lambda d: trend(d, "--products", "rri", "--restoration-year", "2019"),
                                     ["--disturbance-year"]),
    "disturbance after restoration": (lambda d: trend(d, "--products", "rri", "--disturbance-year", "2025",
                                                      "--restoration-year", "2019"),
                                      ["--disturbance-year 2025", "before --restoration-year"]),
    "restoration year not an epoch": (lambda d: trend(d, "--products", "dvi", "--restoration-year", "2020",
                                                      "--timestep", "5"), ["--restoration-year 2020", "2019, 2025"]),
    "restoration + timestep not an epoch": (lambda d: trend(d, "--products", "dvi", "--restoration-year", "2019"),
                                            ["--timestep 5", "2024"]),
    "timestep 0": (lambda d: trend(d, "--timestep", "0"), ["--timestep 0", "greater than 0"]),
    "timestep negative": (lambda d: trend(d, "--timestep", "-2"), ["--timestep -2"]),
    "percent 0": (lambda d: trend(d, "--percent", "0"), ["--percent 0"]),
    "vegetated outside the index range": (lambda d: trend(d, "--vegetated", "7"), ["--vegetated 7"]),
    "scale nan": (lambda d: indices(d, "--scale", "nan"), ["--scale nan", "finite"]),
    "scale inf": (lambda d: indices(d, "--scale", "inf"), ["--scale inf", "finite"]),
    "scale 0": (lambda d: indices(d, "--scale", "0"), ["--scale 0"]),
    "offset inf": (lambda d: indices(d, "--offset", "inf"), ["--offset inf"]),
    "fvc soil = veg": (lambda d: indices(d, "--index", "fvc", "--fvc-soil", "0.5", "--fvc-veg", "0.5"),
                       ["--fvc-soil 0.5", "--fvc-veg"]),
    "fvc soil > veg": (lambda d: indices(d, "--index", "fvc", "--fvc-soil", "0.9", "--fvc-veg", "0.2"),
                       ["--fvc-soil 0.9"]),
    "savi-l negative": (lambda d: indices(d, "--index", "savi", "--savi-l", "-1"), ["--savi-l -1"]),
    "band role twice": (lambda d: indices(d, "--sensor", "generic", "--scale", "1e-4", "--bands", "red=3,red=4,nir=4"),
                        ["--bands", "'red' is given twice"]),
    "two roles one band": (lambda d: indices(d, "--sensor", "generic", "--scale", "1e-4", "--bands", "red=3,nir=3"),
                           ["--bands", "red and nir"]),
    "min valid fraction 2": (lambda d: assess(d, "--min-valid-fraction", "2"), ["--min-valid-fraction 2", "0 to 1"]),
    "disturbance-min-ha negative": (lambda d: assess(d, "--disturbance-min-ha", "-1"), ["--disturbance-min-ha -1"]),
    "vegetated ndvi 5": (lambda d: assess(d, "--vegetated-ndvi", "5"), ["--vegetated-ndvi 5"]),
    "negative carbon rate": (lambda d: assess(d, "--carbon-rates", "-1,0,1"), ["--carbon-rates"]),
    "memory budget overflow": (lambda d: indices(d, "--memory-budget", "1e30G"), ["--memory-budget"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_degenerate_option_is_refused(reclaim_bin, demo, tmp_path, case):
    make, words = CASES[case]
    line = refused(reclaim_bin, EXIT_USAGE, tmp_path / "o", *make(demo))
    for w in words:
        assert w in line, line


@pytest.mark.parametrize("text,words", [
    ('timestep = nan\n', ["option 'timestep' = nan", "finite"]),
    ('min-valid-fraction = 2\n', None),
    ('{"scale": 0}', ["option 'scale' = 0"]),
])
def test_a_job_file_gets_the_same_checks(reclaim_bin, demo, tmp_path, text, words):
    """The checks sit where the option becomes a request, so a --job file cannot bypass them;
    the line names the job file and the key (exit 3, as for the job file's other errors)."""
    job = tmp_path / ("job.json" if text.startswith("{") else "job.toml")
    job.write_text(text)
    if "min-valid-fraction" in text:
        args = assess(demo, "--job", job)
        words = ["option 'min-valid-fraction' = 2", "0 to 1"]
    elif "scale" in text:
        args = indices(demo, "--job", job)
    else:
        args = trend(demo, "--job", job)
    line = refused(reclaim_bin, EXIT_INPUT, tmp_path / "o", *args)
    assert str(job) in line, line
    for w in words:
        assert w in line, line


@pytest.mark.parametrize("text,words", [
    ('[[grade]]\nname = "A"\nmin_cover_after_pct = 40\n[[grade]]\nname = "B"\nmin_cover_after_pct = 60\n',
     ["grade[1] (B)", "never assigned", "grade[0] (A)"]),
    ('[[grade]]\nname = "A"\nmin_cover_after_pct = 140\n', ["grade[0].min_cover_after_pct = 140", "0 to 100"]),
    ('[[grade]]\nname = "A"\nmax_still_bare_pct = -5\n', ["grade[0].max_still_bare_pct = -5"]),
    ('[[grade]]\nname = "A"\nmin_cover_after_pct = nan\n', ["grade[0].min_cover_after_pct = nan"]),
    ('[[grade]]\nname = "A"\nmin_cover_after_pct = 60\n[[grade]]\nname = "A"\nmin_cover_after_pct = 70\n',
     ["grade[1]", "'A' is taken"]),
])
def test_bad_grade_ranges_are_refused(reclaim_bin, demo, tmp_path, text, words):
    grades = tmp_path / "grades.toml"
    grades.write_text(text)
    line = refused(reclaim_bin, EXIT_INPUT, tmp_path / "o", *assess(demo, "--grades", grades))
    assert str(grades) in line, line
    for w in words:
        assert w in line, line


def test_the_default_grade_table_written_out_is_accepted(reclaim_bin, demo, tmp_path):
    """The checks refuse only what cannot work: docs/metrics.md's table itself passes."""
    grades = tmp_path / "grades.toml"
    grades.write_text('[[grade]]\nname = "A"\nmin_cover_after_pct = 60\nmax_still_bare_pct = 10\n'
                      '[[grade]]\nname = "B"\nmin_cover_after_pct = 40\nmax_still_bare_pct = 25\n'
                      '[[grade]]\nname = "C"\nmin_cover_gain_pp = 10\n[[grade]]\nname = "D"\nmin_cover_gain_pp = 1\n')
    run_reclaim(reclaim_bin, *assess(demo, "--grades", grades), "--out", tmp_path / "o", "--quiet")


@pytest.mark.parametrize("name,text,key", [
    ("rules.json", '{"thresholds": {"ndvi_bare": 1e999}}', "thresholds.ndvi_bare"),
    ("rules2.json", '{"classes": [{"value": 9, "name": "x", "colour": [1, 2, 3]}, {"value": -1e999}]}',
     "classes[1].value"),
    ("rules.toml", '[thresholds]\nndvi_bare = 1e999\n', "ndvi_bare"),
])
def test_an_out_of_range_number_in_a_rules_file_names_file_and_key(reclaim_bin, demo, tmp_path, name, text, key):
    """1e999 in a JSON rules file was exit 1 ("internal error: number overflow")."""
    rules = tmp_path / name
    rules.write_text(text)
    line = refused(reclaim_bin, EXIT_INPUT, tmp_path / "o", "change", "--before", demo / "2019.tif",
                   "--after", demo / "2025.tif", "--rules", rules)
    assert f"rules file '{rules}'" in line and key in line, line


def test_an_out_of_range_number_in_a_job_file_names_the_key(reclaim_bin, demo, tmp_path):
    job = tmp_path / "job.json"
    job.write_text('{"timestep": 1e999}')
    line = refused(reclaim_bin, EXIT_INPUT, tmp_path / "o", *trend(demo, "--job", job))
    assert str(job) in line and "timestep" in line and "out of range" in line, line


def test_a_file_in_the_way_of_the_picture_folder_is_an_io_error(reclaim_bin, demo, tmp_path):
    """It was exit 1, "internal error: filesystem error"."""
    out = tmp_path / "o"
    out.mkdir()
    (out / "pictures").write_text("in the way")
    proc = run_reclaim(reclaim_bin, *assess(demo)[:-1], "--out", out, "--quiet", check=False)
    assert proc.returncode == EXIT_IO, proc.stderr
    assert f"{out / 'pictures'}: cannot create the picture folder" in proc.stderr, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["pictures"], "nothing written beside it"


def test_partial_in_a_folder_that_cannot_be_made(reclaim_bin, demo, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    partial = blocker / "sub" / "p.rzp"
    proc = run_reclaim(reclaim_bin, "zonal", "--raster", demo / "2019.tif", "--zones", demo / "sites.gpkg",
                       "--stats", "mean", "--partial", partial, "--quiet", check=False)
    assert proc.returncode == EXIT_IO, proc.stderr
    assert str(blocker / "sub") in proc.stderr, proc.stderr


@pytest.fixture
def small_fs(tmp_path):
    """A 2 MiB tmpfs (tests run as root); skipped where mounting is not permitted."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {proc.stderr.strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_read_only_file_system_is_an_io_error(reclaim_bin, demo, small_fs):
    subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], check=True)
    for out in (small_fs, small_fs / "o"):
        proc = run_reclaim(reclaim_bin, *assess(demo), "--out", out, "--quiet", check=False)
        assert proc.returncode == EXIT_IO, proc.stderr
        assert str(out) in proc.stderr and "Read-only file system" in proc.stderr, proc.stderr


def test_a_full_disk_is_reported_as_such(reclaim_bin, small_fs, tmp_path):
    """A 1500 x 1500 NDVI (9 MB of noisy Float32, about 6 MB compressed) into 2 MiB: the line
    used to be GDAL's "TIFFRewriteDirectory: Error fetching directory count"."""
    data = tmp_path / "big"
    run_reclaim(reclaim_bin, "synth", "--out", data, "--width", "1500", "--height", "1500")
    out = small_fs / "o"
    proc = run_reclaim(reclaim_bin, "indices", "--input", data / "2019.tif", "--sensor", "sentinel2-l2a", "--index", "ndvi", "--out", out,
                       "--quiet", check=False)
    assert proc.returncode == EXIT_IO, proc.stderr
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert lines == [f"reclaim: error: {out / 'ndvi.tif'}: no space left on device in {out}"], proc.stderr
    left = sorted(p.name for p in out.iterdir()) if out.exists() else []
    assert left == [], f"left behind: {left}"


def test_job_file_paths_are_taken_from_the_job_files_folder(reclaim_bin, demo, tmp_path):
    """A job file means the same run from any working folder: its relative paths (scenes with a
    label, sites, grades, out) are taken from its own folder. They used to be taken from the
    working folder, so the run below failed with 'data/2019.tif: No such file'."""
    jobs = tmp_path / "jobs"
    (jobs / "data").mkdir(parents=True)
    for name in ("2019.tif", "2025.tif", "sites.gpkg"):
        (jobs / "data" / name).symlink_to(demo / name)
    (jobs / "grades.toml").write_text('[[grade]]\nname = "PASS"\nmin_cover_after_pct = 50\n')
    (jobs / "job.toml").write_text('before = "2019=data/2019.tif"\nafter = "2025=data/2025.tif"\n'
                                   'sites = "data/sites.gpkg"\ngrades = "grades.toml"\nout = "result"\n'
                                   'id-field = "site_id"\nno-pictures = true\nquiet = true\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run_reclaim(reclaim_bin, "assess", "--job", "../jobs/job.toml", cwd=elsewhere)
    assert (jobs / "result" / "sites.csv").exists() and not (elsewhere / "result").exists()
    run_reclaim(reclaim_bin, *assess(demo, "--id-field", "site_id", "--grades", jobs / "grades.toml"),
                "--out", tmp_path / "direct", "--quiet")
    assert (jobs / "result" / "sites.csv").read_text() == (tmp_path / "direct" / "sites.csv").read_text()
    sites = json.loads((jobs / "result" / "manifest.json").read_text())["parameters"]["sites"]
    assert os.path.samefile(elsewhere / sites, jobs / "data" / "sites.gpkg")  # recorded as resolved
    # A path on the command line is still taken from the working folder.
    run_reclaim(reclaim_bin, "assess", "--job", jobs / "job.toml", "--out", "here", cwd=elsewhere)
    assert (elsewhere / "here" / "sites.csv").exists()
