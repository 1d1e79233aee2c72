"""`make lab` really serves JupyterLab with the course's notebooks in its file browser."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_lab_serves_the_notebooks():
    port, token = free_port(), "course-test"
    args = f"--no-browser --ServerApp.token={token} --ServerApp.ip=127.0.0.1"
    server = subprocess.Popen(["make", "-s", "lab", f"PORT={port}", f"LAB_ARGS={args}"], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)

    def get(path: str) -> dict:
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"token {token}"})
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.load(response)

    try:
        deadline, status = time.monotonic() + 120, None
        while status is None and time.monotonic() < deadline:
            assert server.poll() is None, f"make lab exited: {server.stderr.read().decode()[-2000:]}"
            try:
                status = get("/api/status")
            except OSError:
                time.sleep(0.5)
        assert status is not None and "started" in status, "JupyterLab did not answer /api/status in 120 s"
        names = {item["name"] for item in get("/api/contents")["content"]}
        expected = {p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")}
        assert expected and expected <= names, names
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
