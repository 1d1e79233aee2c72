"""The course website: a static Jupyter Book (1.x) site of every chapter, with outputs, built offline.

It comes in two editions. The students' edition (the default) shows each exercise as the student
copies have it, a stub, with no solution and no check output, and leaves out the instructor's guide;
the instructors' edition shows the solutions (folded) and the guide.

Command line (from the repository root):
    python -m mtl_course.site                  the students' site in _build/site/_build/html
    python -m mtl_course.site --instructors    the instructors' site in _build/site-instructors/_build/html
Each command replaces only the folders it made itself (they hold a marker file) and refuses to
touch a folder of the same name made by anything else.

The pages show the notebooks as they ran: `make test` keeps each notebook that passed nbval, with its
outputs, in _build/executed/ (see conftest.py), and the site uses that copy when its code is the same
as the notebook's; otherwise it executes the notebook first (nbclient). Jupyter Book 2 fetches its
theme from the internet, so the course pins Jupyter Book 1.x, and MathJax comes from the package
sphinx-mathjax-offline instead of a CDN.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .course import BEGIN, CLAIM, NOTEBOOKS, ROOT, load, notebook_paths, repository_url, save, source, student_copy

BUILD = ROOT / "_build"
EXECUTED = BUILD / "executed"
EDITIONS = ("students", "instructors")
BOOK = BUILD / "book"   # the students' edition; the instructors' has the suffix "-instructors"
SITE = BUILD / "site"
GUIDE = NOTEBOOKS / "README.md"
REFERENCE = ("glossary", "bibliography", "pitfalls")  # notebooks/<name>.md: pages of both editions, linked from each chapter
WIDGET = "application/vnd.jupyter.widget-view+json"
MARK = ".made-by-mtl-course-site"  # in every folder this command made, and may therefore replace
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


def folders(edition: str) -> tuple[Path, Path]:
    """The book's sources and the site's output folder of an edition."""
    if edition not in EDITIONS:
        raise SiteError(f"edition={edition!r} is not one of {EDITIONS}.")
    suffix = "" if edition == "students" else f"-{edition}"
    return BOOK.with_name(BOOK.name + suffix), SITE.with_name(SITE.name + suffix)


def refuse_foreign(folder: Path) -> None:
    """Raise SiteError if `folder` holds anything this command did not make (it lacks the marker file)."""
    if folder.exists() and not (folder / MARK).is_file() and (not folder.is_dir() or any(folder.iterdir())):
        raise SiteError(f"{folder} exists and was not made by `python -m mtl_course.site` (it has no {MARK} "
                        "file), so the site will not delete it: move it away or delete it yourself, then "
                        "build again.")


def fresh_folder(folder: Path) -> Path:
    """An empty folder, marked as this command's: an old one is removed only if this command made it."""
    refuse_foreign(folder)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / MARK).write_text("Made by `python -m mtl_course.site`, which replaces this folder on every build.\n")
    return folder


def for_students(notebook: dict) -> dict:
    """The executed notebook with each exercise as the student copy has it: the stub, and no output from it
    or from its check (the check's verdict belongs to the solution)."""
    copy = student_copy(notebook)
    code = [(cell, stub) for cell, stub in zip(notebook["cells"], copy["cells"]) if cell["cell_type"] == "code"]
    for i, (cell, stub) in enumerate(code):
        if BEGIN in source(cell):
            cell["source"], cell["outputs"] = stub["source"], []
            check = next((c for c, _ in code[i + 1:] if "check_" in source(c)), None)
            if check is not None:
                check["outputs"] = []
    return notebook


def for_the_web(notebook: dict) -> dict:
    """Prepare an executed notebook for a page: fold solutions and setup code away, drop progress widgets."""
    first_code = True
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        # the Colab setup cell, every exercise's solution, and the code of each claim (its ✔ lines stay)
        if first_code or BEGIN in source(cell) or CLAIM in tags:
            tags.append("hide-input")
        first_code = False
        # A progress bar is a live widget: on a static page it is an empty box, so leave it out.
        cell["outputs"] = [o for o in cell.get("outputs", []) if WIDGET not in o.get("data", {})]
    return notebook


def intro(notebooks: list[tuple[Path, dict]], edition: str = "students") -> str:
    """The site's front page: the README's opening, then one line per chapter (and, for instructors, the guide)."""
    readme = (ROOT / "README.md").read_text().split("\n## ")[0]  # the text above the first section
    skip = ("# ", "[![", "![", "*")  # title, badges, the picture and its caption
    opening = "\n\n".join(p for p in readme.split("\n\n") if not p.strip().startswith(skip))
    lines = ["# Multi-Task Learning with PyTorch", "", opening.strip(), "", "## Chapters", ""]
    lines += [f"- [{title(nb)}]({path.stem}.ipynb): {lead(nb)}" for path, nb in notebooks]
    lines += ["", "Look up a word in the [glossary](glossary.md), a paper in the [bibliography](bibliography.md), and "
              "what goes wrong most often in the [common pitfalls](pitfalls.md)."]
    lines += ["", "Every chapter page has a launch button (the rocket at the top) that opens the notebook "
              "on Colab; choose a GPU runtime there and the notebook switches to its larger setting.",
              ""]
    if edition == "instructors":
        lines += ["This is the instructors' edition: each exercise's solution is folded under its cell. Read the "
                  "[instructor's guide](instructors.md).", ""]
    else:
        lines += ["Each exercise is a stub for you to fill in; the check after it gives a hint when your answer "
                  "is not right yet.", ""]
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


def toc(paths: list[Path], edition: str = "students") -> str:
    """Jupyter Book's _toc.yml: the front page, the chapters in order, the reference pages, and for instructors their guide."""
    chapters = "\n".join(f"      - file: {p.stem}" for p in paths)
    reference = "".join(f"      - file: {name}\n" for name in REFERENCE)
    teaching = "  - caption: Teaching\n    chapters:\n      - file: instructors\n" if edition == "instructors" else ""
    return (f"format: jb-book\nroot: intro\nparts:\n  - caption: Chapters\n    chapters:\n{chapters}\n"
            f"  - caption: Reference\n    chapters:\n{reference}" + teaching)


def write_book(paths: list[Path] | None = None, edition: str = "students") -> Path:
    """Write an edition's book sources (executed notebooks, front page, config; the guide for instructors)."""
    book, _ = folders(edition)
    paths = paths or notebook_paths()
    notebooks = [(path, executed(path)) for path in paths]  # before touching the folder: a failure here loses nothing
    fresh_folder(book)
    for path, notebook in notebooks:
        shown = for_students(notebook) if edition == "students" else notebook
        save(for_the_web(shown), book / path.name)
    for name in REFERENCE:
        shutil.copy(NOTEBOOKS / f"{name}.md", book / f"{name}.md")
    if edition == "instructors":
        shutil.copy(GUIDE, book / "instructors.md")
    (book / "intro.md").write_text(intro(notebooks, edition))
    (book / "_config.yml").write_text(config(repository_url()))
    (book / "_toc.yml").write_text(toc(paths, edition))
    return book


def build(paths: list[Path] | None = None, edition: str = "students") -> Path:
    """Build an edition of the website and return the folder of its HTML (index.html is the front page)."""
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    if not jupyter_book.exists():
        raise SiteError("jupyter-book is not installed: run `make site` (it installs the course's [site] extra).")
    book, site = folders(edition)
    for folder in (book, site):  # refuse before any long work, not after it
        refuse_foreign(folder)
    write_book(paths, edition)
    fresh_folder(site)
    done = subprocess.run([str(jupyter_book), "build", str(book), "--path-output", str(site)],
                          capture_output=True, text=True)
    html = site / "_build" / "html"
    if done.returncode != 0 or not (html / "index.html").exists():
        raise SiteError(f"jupyter-book build failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return html


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: build one edition of the site and say where it is."""
    parser = argparse.ArgumentParser(
        prog="python -m mtl_course.site",
        description="Build the course website from the notebooks' kept outputs (_build/executed/, written by "
                    "`make test`); a notebook without a current kept run is executed first. The default is the "
                    "students' edition, without solutions.")
    parser.add_argument("--instructors", action="store_true",
                        help="build the instructors' edition instead: solutions (folded) and the instructor's guide, "
                             "in _build/site-instructors/")
    args = parser.parse_args(argv)
    edition = "instructors" if args.instructors else "students"
    start = time.perf_counter()
    try:
        html = build(edition=edition)
    except SiteError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"built the {edition}' site {html / 'index.html'} in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
