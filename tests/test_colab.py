"""The Colab setup cell (the first code cell of every notebook), run as Colab runs it.

Colab is stood in for by what the cell looks at and uses:
- a Python of its own that already has torch and the course's dependencies but not the course
  (a virtualenv that sees this environment's packages through a .pth file, as Colab's Python has
  its own torch), with a stand-in `google.colab` module imported, as on Colab;
- the repository's address, github.com/..., redirected by git (`url.<base>.insteadOf`) to this
  checkout, so the cell's own `git clone` runs, without the internet;
- the clone folder: MTL_COURSE_DIR points it into a temporary folder instead of /content/mtl-course.

Then the cell must clone, install the package without installing a torch of its own, and a
following `import mtl_course` must find the clone from another working directory, in the same
Python and in a new one. The install must also work with no network at all (no index, no network
device) when the build requirements (setuptools) are already installed.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

from mtl_course import course

ROOT = Path(__file__).resolve().parents[1]
HERE_PACKAGES = Path(sysconfig.get_paths()["purelib"])

pytestmark = pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(),
                                reason="needs git and a git checkout of the course to clone from")


def setup_cell() -> str:
    """The setup cell as the notebooks hold it (tests/test_project.py checks every notebook has this one)."""
    notebook = course.load(course.notebook_paths()[0])
    return course.source(next(c for c in notebook["cells"] if c["cell_type"] == "code"))


def colab_python(folder: Path) -> Path:
    """A Python like Colab's: its own environment, which sees torch and the other packages installed here
    (read-only, through a .pth file) but not the course, since the editable install's hook is not run there."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    packages = Path(subprocess.run([str(folder / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                   capture_output=True, text=True, check=True).stdout.strip())
    (packages / "colab_preinstalled.pth").write_text(f"{HERE_PACKAGES}\n")
    return folder / "bin" / "python"


def offline_prefix() -> list[str]:
    """`unshare -n`: run a command without any network device, where this user may (root on Linux)."""
    if shutil.which("unshare") and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0:
        return ["unshare", "-n"]
    return []


def _run_cell(tmp_path: Path, offline: bool) -> tuple[dict, Path, Path]:
    """Run the setup cell in a Colab-like Python, then import the course from elsewhere; (what it found, clone, python)."""
    python = colab_python(tmp_path / "colab-python")
    clone, elsewhere = tmp_path / "content" / "mtl-course", tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON", "GIT_"))}
    env.update(MTL_COURSE_DIR=str(clone), PYTHONDONTWRITEBYTECODE="1",  # no .pyc files written into this environment
               GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_COUNT="1",
               GIT_CONFIG_KEY_0=f"url.file://{ROOT}.insteadOf", GIT_CONFIG_VALUE_0=course.repository_url(ROOT))
    if offline:  # no index, no pip configuration (no local wheel folders either), the installed setuptools builds
        env.update(PIP_NO_INDEX="1", PIP_CONFIG_FILE=os.devnull, PIP_NO_BUILD_ISOLATION="0")  # pip reads "0" as "--no-build-isolation"
    script = textwrap.dedent("""\
        import json, os, sys, types
        sys.modules["google.colab"] = types.ModuleType("google.colab")  # as on Colab, where the kernel imports it
        try:
            import mtl_course
            had_course = mtl_course.__file__
        except ImportError:
            had_course = None
        exec(compile(open(sys.argv[1], encoding="utf-8").read(), "setup cell", "exec"))
        os.chdir(sys.argv[2])
        import mtl_course, torch
        print(json.dumps({"had_course": had_course, "course": mtl_course.__file__, "torch": torch.__file__,
                          "torch_version": torch.__version__}))
        """)
    (tmp_path / "cell.py").write_text(setup_cell(), encoding="utf-8")
    (tmp_path / "colab.py").write_text(script, encoding="utf-8")
    command = (offline_prefix() if offline else []) + [str(python), str(tmp_path / "colab.py"), str(tmp_path / "cell.py"),
                                                       str(elsewhere)]
    run = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, f"the setup cell failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    found = json.loads(run.stdout.strip().splitlines()[-1])
    again = subprocess.run([str(python), "-c", "import mtl_course, json; print(json.dumps(mtl_course.__file__))"],
                           cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, f"a new Python does not import the installed course:\n{again.stderr[-2000:]}"
    found["course_in_a_new_python"] = json.loads(again.stdout)
    return found, clone, python


def _installed_here() -> dict[str, float]:
    """This environment's installed packages (top-level entries of site-packages, with their modification times)."""
    return {p.name: p.stat().st_mtime for p in HERE_PACKAGES.iterdir()}


def _check(found: dict, clone: Path, python: Path) -> None:
    """The cell cloned the official address into the clone folder, installed the course from it, kept torch."""
    import torch

    assert found["had_course"] is None, f"the course was importable before the cell ran: {found['had_course']}"
    assert Path(found["course"]).resolve().is_relative_to(clone.resolve()), found
    assert Path(found["course_in_a_new_python"]).resolve().is_relative_to(clone.resolve()), found
    origin = subprocess.run(["git", "-C", str(clone), "remote", "get-url", "origin"], capture_output=True, text=True)
    assert origin.stdout.strip() == course.repository_url(ROOT), "the cell did not clone the repository's address"
    assert (found["torch"], found["torch_version"]) == (torch.__file__, torch.__version__), "the cell replaced torch"
    own = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                              capture_output=True, text=True, check=True).stdout.strip())
    assert not [p.name for p in own.iterdir() if p.name.lower().startswith("torch")], "pip installed a torch of its own"


def test_setup_cell_clones_installs_and_keeps_torch_as_on_colab(tmp_path):
    before = _installed_here()
    found, clone, python = _run_cell(tmp_path, offline=False)
    _check(found, clone, python)
    assert _installed_here() == before, "the cell changed the environment it borrowed its packages from"


def test_setup_cell_installs_without_network_when_the_build_requirements_are_there(tmp_path):
    import setuptools

    if tuple(int(x) for x in setuptools.__version__.split(".")[:2]) < (77, 0):
        pytest.skip(f"setuptools {setuptools.__version__} is installed; the course builds with setuptools>=77")
    before = _installed_here()
    found, clone, python = _run_cell(tmp_path, offline=True)
    _check(found, clone, python)
    assert _installed_here() == before, "the cell changed the environment it borrowed its packages from"
