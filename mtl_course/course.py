"""The course's notebooks as files: the standard setup cell, Colab badges, and student copies.

Command line (from the repository root; each command's --help says more and does nothing else):
    python -m mtl_course.course student [OUT] [--force]   write student copies (solutions removed) to OUT (default: student/)
    python -m mtl_course.course nbgrader OUT [--force]    write each notebook as an nbgrader assignment, OUT/<name>/<name>.ipynb
    python -m mtl_course.course sync                      rewrite every notebook's setup cell and Colab badge (and the README's) from pyproject.toml

`student` and `nbgrader` never overwrite a file that is already there (a student's edited copy is
their work): they write only the missing ones and name the ones they kept; --force overwrites.
Neither writes into notebooks/, the course's source.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
CLAIM = "claim"  # the tag of a cell that checks the prose with mc.claim; the website folds its code
MANUAL = "manually_graded"  # cell metadata mtl_course.manually_graded = points: an answer graded by hand
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
CLONE_DIR = "/content/mtl-course"  # where the setup cell clones the course on Colab (MTL_COURSE_DIR overrides it)
BADGE = re.compile(r"\[!\[Open In Colab\]\(https://colab\.research\.google\.com/assets/colab-badge\.svg\)\]\(([^)]*)\)")


def repository_url(root: Path = ROOT) -> str:
    """The repository's address, kept in one place: pyproject.toml's [project.urls] Repository."""
    import tomllib  # Python 3.11+; only the course's tooling needs it
    with open(root / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["urls"]["Repository"].rstrip("/")


def colab_url(notebook: str, repo: str | None = None) -> str:
    """Colab's address for a notebook of the repository's main branch, e.g. notebooks/00_getting_started.ipynb."""
    repo = repo or repository_url()
    return repo.replace("https://github.com/", "https://colab.research.google.com/github/") + f"/blob/main/{notebook}"


def colab_badge(notebook: str, repo: str | None = None) -> str:
    """The Markdown of the "Open in Colab" badge for a notebook."""
    return f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab_url(notebook, repo)})"


def setup_cell(repo: str | None = None) -> str:
    """Source of the standard setup cell, the first code cell of every notebook."""
    repo = repo or repository_url()
    return f'''# Course setup (the same in every notebook). On Colab it fetches the course and installs its
# package (Colab's own torch is kept); anywhere else it does nothing: `make lab` installed it already.
import sys
if "google.colab" in sys.modules:
    import os, subprocess
    COURSE_DIR = os.environ.get("MTL_COURSE_DIR", "{CLONE_DIR}")
    if not os.path.isdir(COURSE_DIR):
        subprocess.run(["git", "clone", "--depth", "1", "{repo}", COURSE_DIR], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "-e", COURSE_DIR], check=True)
    sys.path.insert(0, COURSE_DIR)'''


def notebook_paths(folder: Path = NOTEBOOKS) -> list[Path]:
    """The course's notebooks in chapter order."""
    return sorted(folder.glob("[0-9][0-9]_*.ipynb"))


def source(cell: dict) -> str:
    """A cell's source as one string (notebook files may store it as a list of lines)."""
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _set_source(cell: dict, text: str) -> None:
    """Store a cell's source as a list of lines, as Jupyter writes it."""
    cell["source"] = text.splitlines(keepends=True)


def load(path: Path) -> dict:
    """Read a notebook file as JSON."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def save(notebook: dict, path: Path) -> None:
    """Write a notebook file the way Jupyter does (indent 1, trailing newline)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(notebook, f, indent=1, ensure_ascii=False)
        f.write("\n")


def strip_solutions(text: str) -> str:
    """Replace each `### BEGIN SOLUTION … ### END SOLUTION` block by a stub, keeping its indentation (nbgrader's convention)."""
    out, inside = [], False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise ValueError("Nested '### BEGIN SOLUTION' marker.")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out += [indent + stub_line for stub_line in STUB.splitlines()]
        elif stripped == END:
            if not inside:
                raise ValueError("'### END SOLUTION' without a matching BEGIN.")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError("'### BEGIN SOLUTION' without a matching END.")
    return "\n".join(out)


def student_copy(notebook: dict) -> dict:
    """The notebook with every solution replaced by a stub and every output cleared."""
    copy = json.loads(json.dumps(notebook))
    for cell in copy["cells"]:
        if cell["cell_type"] == "code":
            if BEGIN in source(cell):
                _set_source(cell, strip_solutions(source(cell)))
            cell["outputs"], cell["execution_count"] = [], None
    return copy


def until_first_stub(notebook: dict) -> dict:
    """A student copy cut after its first stub cell: everything a student runs before writing code."""
    copy = student_copy(notebook)
    stubs = [i for i, c in enumerate(notebook["cells"]) if c["cell_type"] == "code" and BEGIN in source(c)]
    if not stubs:
        raise ValueError("This notebook has no exercise stub (no '### BEGIN SOLUTION' block).")
    copy["cells"] = copy["cells"][: stubs[0] + 1]
    return copy


def check_output_folder(out: Path, argument: str = "out") -> Path:
    """Refuse an output folder that is, or lies inside, the source notebooks' folder (writing there loses the course)."""
    resolved = Path(out).resolve()
    source_folder = NOTEBOOKS.resolve()
    if resolved == source_folder or source_folder in resolved.parents:
        where = "is" if resolved == source_folder else "lies inside"
        raise ValueError(f"{argument}={str(out)!r} {where} the course's source folder {source_folder}: copies "
                         f"written there would replace or clutter the instructor's notebooks. "
                         f"Choose another folder, e.g. student/.")
    if resolved.exists() and not resolved.is_dir():
        raise ValueError(f"{argument}={str(out)!r} is a file, not a folder: choose a folder for the copies.")
    return resolved


def _write_missing(copies: list[tuple[dict, Path]], force: bool) -> list[Path]:
    """Write each (notebook, target) whose target does not exist yet (every one with `force`); the paths written."""
    written = []
    for notebook, target in copies:
        if force or not target.exists():
            save(notebook, target)
            written.append(target)
    return written


def write_student_copies(out: Path = ROOT / "student", force: bool = False) -> list[Path]:
    """Write a student copy of every notebook into `out` (git ignores student/ and _build/); the paths written.

    A copy that is already there is the student's work: it is kept unless `force` is True.
    """
    out = check_output_folder(out)
    return _write_missing([(student_copy(load(path)), out / path.name) for path in notebook_paths()], force)


def nbgrader_copy(notebook: dict) -> dict:
    """The notebook with nbgrader's cell metadata: each solution an autograded answer, its check a 1-point test,
    and each cell marked `{"mtl_course": {"manually_graded": points}}` a manually graded answer."""
    copy = json.loads(json.dumps(notebook))
    for cell in copy["cells"]:  # nbgrader takes a marker quoted in prose for a solution region:
        if cell["cell_type"] == "markdown":  # a no-break space keeps the text and hides the marker
            _set_source(cell, source(cell).replace(" SOLUTION", "\u00a0SOLUTION"))
    cells = [c for c in copy["cells"] if c["cell_type"] == "code"]
    n = 0
    for cell, after in zip(cells, cells[1:] + [None]):
        if BEGIN not in source(cell):
            continue
        n += 1
        cell["metadata"]["nbgrader"] = {"grade": False, "grade_id": f"exercise_{n}", "locked": False,
                                        "schema_version": 3, "solution": True, "task": False}
        if after is None or "assert check_" not in source(after):
            raise ValueError(f"Exercise {n} has no check cell (`assert check_...`) right after its solution.")
        after["metadata"]["nbgrader"] = {"grade": True, "grade_id": f"exercise_{n}_check", "locked": True,
                                         "points": 1, "schema_version": 3, "solution": False, "task": False}
    for k, cell in enumerate(c for c in copy["cells"] if MANUAL in c.get("metadata", {}).get("mtl_course", {})):
        points = cell["metadata"]["mtl_course"][MANUAL]   # a written answer (the capstone's report), graded by hand
        cell["metadata"]["nbgrader"] = {"grade": True, "grade_id": f"manual_{k + 1}", "locked": False,
                                        "points": points, "schema_version": 3, "solution": True, "task": False}
    return copy


def write_nbgrader_assignments(out: Path, force: bool = False) -> list[Path]:
    """Write every notebook as an nbgrader assignment, out/<name>/<name>.ipynb (out is nbgrader's source/); the paths written.

    An assignment that is already there (perhaps edited by the instructor) is kept unless `force` is True.
    """
    out = check_output_folder(out)
    return _write_missing([(nbgrader_copy(load(path)), out / path.stem / path.name) for path in notebook_paths()], force)


def tag_claims(notebook: dict) -> None:
    """Tag every code cell that calls mc.claim (and only those) CLAIM, so the website can fold their code."""
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        tags = [t for t in cell.setdefault("metadata", {}).get("tags", []) if t != CLAIM]
        if "mc.claim(" in source(cell):
            tags.append(CLAIM)
        if tags:
            cell["metadata"]["tags"] = tags
        else:
            cell["metadata"].pop("tags", None)


def sync(path: Path, repo: str | None = None) -> bool:
    """Rewrite a notebook's setup cell and Colab badge from the repository address, and tag its claim cells;
    True if it changed."""
    notebook = load(path)
    before = json.dumps(notebook)
    rel = path.resolve().relative_to(ROOT).as_posix()
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown" and BADGE.search(source(cell)):
            _set_source(cell, BADGE.sub(colab_badge(rel, repo).replace("\\", "\\\\"), source(cell)))
    first_code = next(c for c in notebook["cells"] if c["cell_type"] == "code")
    _set_source(first_code, setup_cell(repo))
    tag_claims(notebook)
    if json.dumps(notebook) != before:
        save(notebook, path)
        return True
    return False


def sync_readme(path: Path = ROOT / "README.md", repo: str | None = None) -> bool:
    """Point the README's Colab badge at chapter 00 of this repository; True if it changed."""
    text = path.read_text(encoding="utf-8")
    new = BADGE.sub(colab_badge("notebooks/00_getting_started.ipynb", repo).replace("\\", "\\\\"), text)
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def _report(written: list[Path], targets: list[Path]) -> None:
    """Say which files a command wrote and which it kept because they were there already."""
    for path in written:
        print(f"wrote {path}")
    kept = [path for path in targets if path not in written]
    for path in kept:
        print(f"kept  {path} (already there; --force overwrites it, and its edits are lost)")
    if kept:
        print(f"{len(written)} written, {len(kept)} kept.")


def parser() -> argparse.ArgumentParser:
    """The command line: student, nbgrader and sync, each with its own --help."""
    main_parser = argparse.ArgumentParser(prog="python -m mtl_course.course",
                                          description="The course's notebooks as files: student copies, "
                                                      "nbgrader assignments, setup cells and Colab badges.")
    commands = main_parser.add_subparsers(dest="command", required=True, metavar="{student,nbgrader,sync}")
    keep = ("Files that are already there are kept (a student's or instructor's edits are their work): only the "
            "missing ones are written, so a rerun after `git pull` adds new chapters. --force overwrites them all.")
    student = commands.add_parser("student", help="write student copies (every solution replaced by a stub)",
                                  description="Write a student copy of every notebook: each solution replaced "
                                              "by `raise NotImplementedError()`, outputs cleared. " + keep)
    student.add_argument("out", nargs="?", type=Path, default=ROOT / "student",
                         help="folder for the copies (default: student/ in the repository; never notebooks/)")
    student.add_argument("--force", action="store_true", help="overwrite copies that are already there")
    student.set_defaults(usage=student)
    nbgrader = commands.add_parser("nbgrader", help="write every notebook as an nbgrader assignment",
                                   description="Write every notebook as an nbgrader assignment, "
                                               "OUT/<name>/<name>.ipynb, with nbgrader's cell metadata. " + keep)
    nbgrader.add_argument("out", type=Path, help="nbgrader's source/ folder (never notebooks/)")
    nbgrader.add_argument("--force", action="store_true", help="overwrite assignments that are already there")
    nbgrader.set_defaults(usage=nbgrader)
    sync = commands.add_parser("sync", help="rewrite every notebook's setup cell and Colab badge from pyproject.toml",
                        description="Rewrite every notebook's setup cell and Colab badge, and the README's "
                                    "badge, from pyproject.toml's [project.urls] Repository.")
    sync.set_defaults(usage=sync)
    return main_parser


def main(argv: list[str]) -> int:
    """Command-line entry point (see the module docstring); argparse exits with 0 after --help, 2 on bad input."""
    args = parser().parse_args(argv)
    try:
        if args.command == "student":
            targets = [check_output_folder(args.out) / p.name for p in notebook_paths()]
            _report(write_student_copies(args.out, args.force), targets)
        elif args.command == "nbgrader":
            targets = [check_output_folder(args.out) / p.stem / p.name for p in notebook_paths()]
            _report(write_nbgrader_assignments(args.out, args.force), targets)
        else:
            for path in notebook_paths():
                print(f"{'updated' if sync(path) else 'unchanged'} {path.relative_to(ROOT)}")
            print(f"{'updated' if sync_readme() else 'unchanged'} README.md")
    except ValueError as error:
        args.usage.error(str(error))  # usage and message on stderr, exit status 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
