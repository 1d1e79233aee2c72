"""`make lab`, the README's JupyterLab command, as a student uses it: the server lists the course's
notebooks, and in a real browser (headless Chromium) chapter 3 runs top to bottom and its explorer
redraws when you move the ρ slider.

The browser test keeps screenshots of the explorer before and after the slider move in _build/lab/.
JupyterLab runs with settings of its own (a temporary folder): autosave off, so that the notebook in
notebooks/ is never written (the test checks that), and no news fetched from the internet.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "_build" / "lab"
CHAPTER = ROOT / "notebooks" / "03_task_relatedness.ipynb"
TOKEN = "course-test"
SETTINGS = {  # JupyterLab user settings: plugin -> values
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    # every cell on the page: JupyterLab 4 otherwise renders only the cells in view ("full" windowing),
    # and a test that counts prompts would count those alone
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}

pytestmark = [pytest.mark.lab, pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")]


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """A JupyterLab server started by `make lab`, and its REST API."""

    def __init__(self, port: int):
        self.port, self.url = port, f"http://127.0.0.1:{port}"

    def get(self, path: str):
        """GET a path of the server's REST API, as JSON."""
        request = urllib.request.Request(self.url + path, headers={"Authorization": f"token {TOKEN}"})
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.load(response)


@pytest.fixture(scope="module")
def lab():
    """`make lab` on a free port, with its own user settings; stopped (the whole process group) afterwards."""
    port, home = free_port(), Path(tempfile.mkdtemp(prefix="mtl-course-lab-"))
    for plugin, values in SETTINGS.items():
        path = home / "settings" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"))
    args = f"--no-browser --ServerApp.token={TOKEN} --ServerApp.ip=127.0.0.1"
    server = subprocess.Popen(["make", "-s", "lab", f"PORT={port}", f"LAB_ARGS={args}"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    server_ = Lab(port)
    try:
        deadline, status = time.monotonic() + 120, None
        while status is None and time.monotonic() < deadline:
            assert server.poll() is None, f"make lab exited: {server.stderr.read().decode()[-2000:]}"
            try:
                status = server_.get("/api/status")
            except OSError:
                time.sleep(0.5)
        assert status is not None and "started" in status, "JupyterLab did not answer /api/status in 120 s"
        yield server_
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(home, ignore_errors=True)


def test_make_lab_serves_the_notebooks(lab):
    names = {item["name"] for item in lab.get("/api/contents")["content"]}
    expected = {p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    assert expected and expected <= names, names


# --- chapter 3 in a real browser -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def chromium():
    """Headless Chromium through selenium, keeping the browser console's messages."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver_path = shutil.which("chromedriver")
    if not (browser and driver_path):
        message = "Chromium and chromedriver are not installed (make test installs them as root on Debian)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    profile = tempfile.mkdtemp(prefix="mtl-course-chromium-")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                 "--window-size=1280,1400", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _wait(condition, seconds: float, what: str):
    """Poll `condition` until it returns something true; fail naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")


def _prompts(driver) -> list[str]:
    """The input prompts of the notebook's code cells: '[12]:' once run, '[*]:' while running, '[ ]:' before."""
    return driver.execute_script(
        "return [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt')]"
        ".map(p => p.textContent.trim())")


def _kernel_state(driver) -> str:
    """The kernel's state as the notebook's toolbar shows it: 'idle', 'busy', ... ('' before it is drawn)."""
    return driver.execute_script(
        "const i = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator');"
        "return i ? i.getAttribute('data-status') : '';")


def _server_kernel(lab: Lab) -> dict:
    """Chapter 3's kernel as the server's sessions list it (one session, so one kernel)."""
    sessions = [s for s in lab.get("/api/sessions") if s["path"].endswith(CHAPTER.name)]
    assert len(sessions) == 1, sessions
    return sessions[0]["kernel"]


def _explorer_image(driver) -> str:
    """The src of the explorer's figure (the image in the ipywidgets output area below its sliders)."""
    return driver.execute_script(
        "const img = document.querySelector('.widget-vbox .widget-output img');"
        "return img ? img.getAttribute('src') : '';")


def _gains(driver) -> list[float]:
    """Every 'gain ×N' the notebook printed as text output, in page order."""
    text = driver.execute_script(
        "return [...document.querySelectorAll('.jp-OutputArea-output')].map(o => o.innerText).join('\\n')")
    return [float(g) for g in re.findall(r"gain ×(\d+\.\d+)", text)]


def _errors_on_page(driver) -> list[str]:
    """Text of every error or stderr output on the page (tracebacks, warnings)."""
    return driver.execute_script(
        "return [...document.querySelectorAll('.jp-OutputArea-output[data-mime-type=\"application/vnd.jupyter.stderr\"],"
        " .jp-OutputArea-output.jp-mod-error, .jp-RenderedText[data-mime-type=\"application/vnd.jupyter.stderr\"]')]"
        ".map(e => e.innerText.slice(0, 500))")


def _console_errors(driver, lab: Lab) -> list[dict]:
    """The browser console's errors, but for images from other machines that did not load (the Colab badge
    in the title cell comes from colab.research.google.com, which a test machine need not reach)."""
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"
            and not (e["source"] == "network" and not e["message"].startswith(lab.url))]


def _run_in_new_cell(driver, code: str) -> None:
    """Add a cell below the active one (command mode, key B), type `code` into it and run it (Shift+Enter)."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    ActionChains(driver).send_keys(Keys.ESCAPE).send_keys("b").perform()
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    ActionChains(driver).send_keys(code).perform()
    ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()


def test_chapter_3_runs_in_jupyterlab_and_its_explorer_redraws_when_the_slider_moves(lab, chromium):
    driver, before = chromium, CHAPTER.read_bytes()
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        _drive_chapter_3(lab, driver)
    except BaseException:
        driver.save_screenshot(str(SHOTS / "03_failed.png"))  # what the page showed when the test failed
        raise
    assert CHAPTER.read_bytes() == before, "JupyterLab wrote the chapter's notebook in notebooks/"


def _drive_chapter_3(lab: Lab, driver) -> None:
    """Open chapter 3, run all, move the ρ slider, and check the redraw, the page, the console and the kernel."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver.get(f"{lab.url}/lab/tree/{CHAPTER.name}?token={TOKEN}")
    _wait(lambda: len(_prompts(driver)) > 10, 120, "the notebook's cells to appear in JupyterLab")
    _wait(lambda: _kernel_state(driver) == "idle", 120, "the kernel to start")

    # Run → Run All Cells, as a student clicks it
    menu = _wait(lambda: [m for m in driver.find_elements(By.CSS_SELECTOR, ".lm-MenuBar-item")
                          if m.text.strip() == "Run"], 30, "the Run menu")
    menu[0].click()
    _wait(lambda: [i for i in driver.find_elements(By.CSS_SELECTOR, "li.lm-Menu-item")
                   if i.text.strip().startswith("Run All Cells")], 10, "Run All Cells in the Run menu")[0].click()
    n_cells = sum(cell.cell_type == "code" for cell in nbformat.read(CHAPTER, as_version=4).cells)
    _wait(lambda: len(_prompts(driver)) == n_cells and all(re.fullmatch(r"\[\d+\]:", p) for p in _prompts(driver))
          and _kernel_state(driver) == "idle", 600, f"all {n_cells} code cells to run (each prompt numbered, the kernel idle)")
    assert not _errors_on_page(driver), f"error output after Run All: {_errors_on_page(driver)}"
    gain_before = _gains(driver)
    assert len(gain_before) == 1, f"expected the explorer cell's one 'gain ×' line, got {gain_before}"
    image_before = _wait(lambda: _explorer_image(driver), 30, "the explorer's figure")

    slider = next(s for s in driver.find_elements(By.CSS_SELECTOR, ".widget-slider")
                  if "ρ" in s.find_element(By.CSS_SELECTOR, ".widget-label").text)
    readout = slider.find_element(By.CSS_SELECTOR, ".widget-readout")
    driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", slider)
    time.sleep(1)
    driver.save_screenshot(str(SHOTS / "03_explorer_before.png"))
    rho_before = float(readout.text)

    handle = slider.find_element(By.CSS_SELECTOR, ".noUi-handle")
    handle.click()
    handle.send_keys(Keys.ARROW_LEFT)  # one step (0.25) down, as a student does with the keyboard or the mouse
    _wait(lambda: float(readout.text) != rho_before, 10, "the slider's readout to change")
    rho_after = float(readout.text)
    image_after = _wait(lambda: (src := _explorer_image(driver)) and src != image_before and src, 300,
                        "the explorer to retrain and redraw its figure")
    _wait(lambda: _kernel_state(driver) == "idle", 120, "the kernel to finish retraining")
    driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", slider)
    time.sleep(1)
    driver.save_screenshot(str(SHOTS / "03_explorer_after.png"))

    # The redrawn figure is the explorer's new result: ask the kernel, in a new cell, what it now holds.
    _run_in_new_cell(driver, 'print(f"rho {explorer.rho.value:.2f}, gain ×{explorer.result[\'gain\']:.2f}")')
    said = _wait(lambda: [g for g in _gains(driver)[1:]] or None, 120, "the new cell's output")
    assert rho_after == pytest.approx(rho_before - 0.25), (rho_before, rho_after)
    assert driver.execute_script(
        "return [...document.querySelectorAll('.jp-OutputArea-output')].some(o => o.innerText.includes("
        f"'rho {rho_after:.2f}, gain'))"), "the kernel's slider value is not the one the page shows"
    assert said[-1] != gain_before[0], f"the gain did not change when ρ moved from {rho_before} to {rho_after}"
    assert image_after != image_before

    assert not _errors_on_page(driver), f"error output on the page: {_errors_on_page(driver)}"
    assert not _console_errors(driver, lab), f"errors in the browser console: {_console_errors(driver, lab)[:5]}"
    _wait(lambda: _kernel_state(driver) == "idle", 60, "the kernel to end idle")
    assert _server_kernel(lab)["execution_state"] == "idle"
