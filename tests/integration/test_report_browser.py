"""The HTML report in a real browser: headless Chromium (Debian's ``chromium`` package) loads
a run report and a leaderboard with no console error, every image decodes, nothing is
fetched from the network, and a screenshot is saved (light and dark colour schemes).

The page is checked through the DOM, not the DevTools protocol (no extra dependency): the test
copies the report, adds a probe script that records errors (``window.onerror``, rejected
promises, ``console.error``, failed loads, CSP violations) and, on ``load``, each image's state
into ``<body data-...>`` attributes, and reads them back with ``--dump-dom``. Screenshots go to
``$OBLIVIATE_REPORT_SCREENSHOTS`` when set, else to the test's temporary folder."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from test_report_fixtures import make_run, retain_results  # noqa: E402

from obliviate.reports import write_report  # noqa: E402
from obliviate.reports.html import CSP  # noqa: E402

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars"]

PROBE_HEAD = """<script>
window.__errors = [];
const note = (m) => window.__errors.push(String(m).slice(0, 300));
window.addEventListener('error', (e) => note(e.message || ('failed to load ' +
  ((e.target && (e.target.src || e.target.href)) || '?').slice(0, 80))), true);
window.addEventListener('unhandledrejection', (e) => note('rejection: ' + e.reason));
document.addEventListener('securitypolicyviolation', (e) => note('CSP: ' + e.blockedURI));
const realError = console.error;
console.error = (...a) => { note('console.error: ' + a.join(' ')); realError(...a); };
</script>"""

PROBE_BODY = """<script>
window.addEventListener('load', () => {
  const imgs = Array.from(document.images);
  const bad = imgs.filter((i) => !(i.complete && i.naturalWidth > 0)).map((i) => i.alt.slice(0, 60));
  document.body.dataset.images = String(imgs.length);
  document.body.dataset.badImages = JSON.stringify(bad);
  document.body.dataset.sizes = JSON.stringify(imgs.map((i) => i.naturalWidth));
  document.body.dataset.errors = JSON.stringify(window.__errors);
  document.body.dataset.probeDone = '1';
});
</script>"""


def _install_chromium() -> str | None:
    """The chromium binary, installed with apt-get when missing and we are root."""
    found = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists()
                                         else None)
    if found:
        return found
    if os.name != "posix" or os.geteuid() != 0 or not shutil.which("apt-get"):
        return None
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        subprocess.run(["apt-get", "update"], env=env, capture_output=True, timeout=600)
        subprocess.run(["apt-get", "install", "-y", "chromium"], env=env, capture_output=True,
                       timeout=900)
    except (OSError, subprocess.SubprocessError):
        return None
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def chromium() -> str:
    path = _install_chromium()
    if path is None:
        pytest.skip("chromium is not installed and cannot be installed here (needs root and "
                    "apt-get with network access: `apt-get install -y chromium`)")
    return path


def _browse(chromium: str, page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess:
    command = [chromium, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=10000",
               *args, page.as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=180)


def _probed_copy(html: Path, folder: Path) -> Path:
    """The report with the probe scripts added; its CSP lets only those inline scripts run."""
    text = html.read_text(encoding="utf-8")
    assert f'content="{CSP}"' in text
    text = text.replace(f'content="{CSP}"', f'content="{CSP}; script-src \'unsafe-inline\'"')
    text = text.replace("<head>", "<head>\n" + PROBE_HEAD, 1).replace("</body>",
                                                                      PROBE_BODY + "</body>", 1)
    probed = folder / f"probed-{html.name}"
    probed.write_text(text, encoding="utf-8")
    return probed


def _body_data(dom: str) -> dict[str, str]:
    body = re.search(r"<body([^>]*)>", dom)
    assert body, f"no <body> in the dumped DOM: {dom[:300]}"
    return {k: unescape(v) for k, v in re.findall(r'data-([a-z-]+)="([^"]*)"', body.group(1))}


def _screenshot_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("OBLIVIATE_REPORT_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _check_in_browser(chromium: str, html: Path, tmp_path: Path, name: str) -> None:
    static = html.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", static), "network reference"
    assert "<script" not in static.lower(), "the report itself must need no script"
    probed = _probed_copy(html, tmp_path)
    result = _browse(chromium, probed, tmp_path / f"profile-{name}", "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    data = _body_data(result.stdout)
    assert data.get("probe-done") == "1", f"the page never finished loading: {data}"
    assert json.loads(data["errors"]) == [], f"errors in the page: {data['errors']}"
    assert int(data["images"]) >= 1
    assert json.loads(data["bad-images"]) == [], f"images not loaded: {data['bad-images']}"
    assert all(width > 0 for width in json.loads(data["sizes"]))
    uncaught = [line for line in result.stderr.splitlines() if "Uncaught" in line]
    assert not uncaught, uncaught
    shots = _screenshot_dir(tmp_path)
    for scheme, extra in (("light", []), ("dark", ["--force-dark-mode",
                                                     "--blink-settings=preferredColorScheme=0"])):
        shot = shots / f"{name}-{scheme}.png"
        done = _browse(chromium, html, tmp_path / f"profile-{name}-{scheme}",
                       f"--screenshot={shot}", "--window-size=1280,2000", *extra)
        assert done.returncode == 0 and shot.is_file() and shot.stat().st_size > 10_000, \
            done.stderr[-2000:]
        print(f"screenshot: {shot}")


@pytest.fixture
def runs(tmp_path: Path) -> tuple[list[Path], Path]:
    retain = retain_results(tmp_path / "retain" / "results.json")
    dirs = [make_run(tmp_path / "npo", "npo", 0.7, 1, retain),
            make_run(tmp_path / "ga", "ga", 0.95, 2, retain, attacks=False),
            make_run(tmp_path / "graddiff", "graddiff", 0.4, 3, retain)]
    return dirs, retain


def test_run_report_renders_in_chromium(chromium, runs, tmp_path):
    dirs, retain = runs
    html, _ = write_report([dirs[0]], None, retain_results=retain)
    _check_in_browser(chromium, html, tmp_path, "run-report")


def test_leaderboard_renders_in_chromium(chromium, runs, tmp_path):
    dirs, retain = runs
    html, _ = write_report(dirs, tmp_path / "board", retain_results=retain)
    _check_in_browser(chromium, html, tmp_path, "leaderboard")
