"""Headless Chromium for the report tests: the DOM after scripts ran, and screenshots.

Chromium runs with a throwaway HOME and profile (it writes both, and a shared profile makes
parallel runs wait on its lock), --no-sandbox (containers run as root), no GPU, and a
virtual-time budget, so the page's load handlers have run when the DOM is dumped.
"""
import os
import pathlib
import shutil
import subprocess
import tempfile

TIMEOUT_S = 120
_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium():
    """Path of a Chromium-family browser on PATH (RECLAIM_CHROMIUM overrides), else None."""
    override = os.environ.get("RECLAIM_CHROMIUM")
    if override:
        return shutil.which(override) or (override if os.access(override, os.X_OK) else None)
    for name in _NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def _run(args, timeout=TIMEOUT_S):
    binary = find_chromium()
    if binary is None:
        raise RuntimeError("no chromium / chromium-browser / google-chrome on PATH")
    with tempfile.TemporaryDirectory(prefix="reclaim_chromium_") as tmp:
        env = dict(os.environ, HOME=tmp, XDG_CONFIG_HOME=tmp, XDG_CACHE_HOME=tmp)
        cmd = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--no-first-run", "--no-default-browser-check", "--disable-extensions",
               "--allow-file-access-from-files", f"--user-data-dir={tmp}/profile",
               "--virtual-time-budget=5000", *args]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise RuntimeError(f"chromium timed out after {timeout} s: {' '.join(cmd)}") from e
    if proc.returncode != 0:
        raise RuntimeError(f"chromium exited {proc.returncode}: {' '.join(cmd)}\n{proc.stderr[-4000:]}")
    return proc


def _url(html_path):
    return pathlib.Path(html_path).resolve().as_uri()


def dump_dom(html_path, timeout=TIMEOUT_S, fragment=""):
    """The serialized DOM of the page after its scripts (and load handlers) ran; `fragment`
    (without '#') is appended to the URL, for pages that read their state from it."""
    return _run(["--dump-dom", _url(html_path) + (f"#{fragment}" if fragment else "")], timeout).stdout


def screenshot(html_path, png_path, size=(1280, 2000), timeout=TIMEOUT_S):
    """Saves a PNG screenshot of the page's first size[0] x size[1] CSS pixels; returns png_path."""
    png_path = pathlib.Path(png_path).resolve()
    png_path.unlink(missing_ok=True)
    _run([f"--screenshot={png_path}", f"--window-size={size[0]},{size[1]}", "--hide-scrollbars",
          _url(html_path)], timeout)
    if not png_path.exists():
        raise RuntimeError(f"chromium wrote no screenshot at {png_path}")
    return png_path
