"""The course website: a static Jupyter Book (1.x) site of every chapter, with outputs, built offline.

Command line (from the repository root):
    python -m mtl_course.site        build _build/site/_build/html (open its index.html in a browser)

The pages show the notebooks as they ran: `make test` keeps each notebook that passed nbval, with its
outputs, in _build/executed/ (see conftest.py), and the site uses that copy when its code is the same
as the notebook's; otherwise it executes the notebook first (nbclient). Jupyter Book 2 fetches its
theme from the internet, so the course pins Jupyter Book 1.x, and MathJax comes from the package
sphinx-mathjax-offline instead of a CDN.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .course import BEGIN, NOTEBOOKS, ROOT, load, notebook_paths, repository_url, save, source

BUILD = ROOT / "_build"
EXECUTED = BUILD / "executed"
BOOK = BUILD / "book"
SITE = BUILD / "site"
HTML = SITE / "_build" / "html"
GUIDE = NOTEBOOKS / "README.md"
WIDGET = "application/vnd.jupyter.widget-view+json"
executed_here: list[str] = []  # the notebooks this process had to execute itself (none after make test)


class SiteError(RuntimeError):
    """The website could not be built; the message names the notebook or the step that failed."""


def title(notebook: dict) -> str:
    """A notebook's title: its first level-1 heading."""
    for cell in notebook["cells"]:
        for line in source(cell).splitlines():
            if cell["cell_type"] == "markdown" and line.startswith("# "):
                return line[2:].strip()
    raise SiteError("A notebook has no '# Title' heading in a markdown cell.")


def lead(notebook: dict) -> str:
    """A notebook's one-line summary: the paragraph right after its title."""
    first = source(notebook["cells"][0]).split("\n\n")
    return first[1].strip() if len(first) > 1 else ""


def same_code(a: dict, b: dict) -> bool:
    """True if two notebooks have the same code cells (so the outputs of one belong to the other)."""
    code = lambda nb: [source(c) for c in nb["cells"] if c["cell_type"] == "code"]
    return code(a) == code(b)


def executed(path: Path, timeout: int = 1800) -> dict:
    """The notebook with its outputs: the test run's copy if its code is current, else a fresh run."""
    notebook = load(path)
    kept = EXECUTED / path.name
    if kept.exists() and same_code(notebook, ran := load(kept)):
        ran_code = [c for c in ran["cells"] if c["cell_type"] == "code"]
        if all(c.get("execution_count") for c in ran_code):
            code = (c for c in notebook["cells"] if c["cell_type"] == "code")
            for cell, done in zip(code, ran_code):  # today's prose, the run's outputs
                cell["outputs"], cell["execution_count"] = done["outputs"], done["execution_count"]
            return notebook
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    print(f"executing {path.name} (no current copy in {kept.relative_to(ROOT)}) ...", flush=True)
    executed_here.append(path.name)
    node = nbformat.reads(json.dumps(notebook), as_version=4)
    try:
        NotebookClient(node, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    except CellExecutionError as error:
        raise SiteError(f"{path.name} failed while executing, so the site cannot show it:\n{error}") from None
    EXECUTED.mkdir(parents=True, exist_ok=True)
    nbformat.write(node, kept)
    return load(kept)


def for_the_web(notebook: dict) -> dict:
    """Prepare an executed notebook for a page: fold solutions and setup code away, drop progress widgets."""
    first_code = True
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if first_code or BEGIN in source(cell):  # the Colab setup cell, and every exercise's solution
            tags.append("hide-input")
        first_code = False
        # A progress bar is a live widget: on a static page it is an empty box, so leave it out.
        cell["outputs"] = [o for o in cell.get("outputs", []) if WIDGET not in o.get("data", {})]
    return notebook


def intro(notebooks: list[tuple[Path, dict]]) -> str:
    """The site's front page: the README's opening, then one line per chapter and the instructor's guide."""
    readme = (ROOT / "README.md").read_text().split("\n## ")[0]  # the text above the first section
    skip = ("# ", "[![", "![", "*")  # title, badges, the picture and its caption
    opening = "\n\n".join(p for p in readme.split("\n\n") if not p.strip().startswith(skip))
    lines = ["# Multi-Task Learning with PyTorch", "", opening.strip(), "", "## Chapters", ""]
    lines += [f"- [{title(nb)}]({path.stem}.ipynb): {lead(nb)}" for path, nb in notebooks]
    lines += ["", "Every chapter page has a launch button (the rocket at the top) that opens the notebook "
              "on Colab; choose a GPU runtime there and the notebook switches to its larger setting.",
              "", "Teaching with the course? Read the [instructor's guide](instructors.md).", ""]
    return "\n".join(lines)


def config(repo: str) -> str:
    """Jupyter Book's _config.yml: no execution (the outputs are already there), Colab launch links, math."""
    return f"""title: Multi-Task Learning with PyTorch
author: the mtl-course authors
copyright: "2026"
only_build_toc_files: true
execute:
  execute_notebooks: "off"
parse:
  myst_enable_extensions: [dollarmath, amsmath]
repository:
  url: {repo}
  path_to_book: notebooks
  branch: main
launch_buttons:
  colab_url: https://colab.research.google.com
html:
  use_repository_button: true
sphinx:
  extra_extensions: [sphinx-mathjax-offline]
"""


def toc(paths: list[Path]) -> str:
    """Jupyter Book's _toc.yml: the front page, the chapters in order, the instructor's guide."""
    chapters = "\n".join(f"      - file: {p.stem}" for p in paths)
    return (f"format: jb-book\nroot: intro\nparts:\n  - caption: Chapters\n    chapters:\n{chapters}\n"
            f"  - caption: Teaching\n    chapters:\n      - file: instructors\n")


def write_book(paths: list[Path] | None = None) -> Path:
    """Write the book's sources (executed notebooks, front page, guide, config) into _build/book/."""
    paths = paths or notebook_paths()
    shutil.rmtree(BOOK, ignore_errors=True)
    BOOK.mkdir(parents=True)
    notebooks = [(path, executed(path)) for path in paths]
    for path, notebook in notebooks:
        save(for_the_web(notebook), BOOK / path.name)
    shutil.copy(GUIDE, BOOK / "instructors.md")
    (BOOK / "intro.md").write_text(intro(notebooks))
    (BOOK / "_config.yml").write_text(config(repository_url()))
    (BOOK / "_toc.yml").write_text(toc(paths))
    return BOOK


def build(paths: list[Path] | None = None) -> Path:
    """Build the website and return the folder of its HTML (index.html is the front page)."""
    book = write_book(paths)
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    if not jupyter_book.exists():
        raise SiteError("jupyter-book is not installed: run `make site` (it installs the course's [site] extra).")
    shutil.rmtree(SITE, ignore_errors=True)
    done = subprocess.run([str(jupyter_book), "build", str(book), "--path-output", str(SITE)],
                          capture_output=True, text=True)
    if done.returncode != 0 or not (HTML / "index.html").exists():
        raise SiteError(f"jupyter-book build failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return HTML


def main() -> int:
    """Command-line entry point: build the site and say where it is."""
    start = time.perf_counter()
    html = build()
    print(f"built {html / 'index.html'} in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
