"""The course's notebooks as files: the standard setup cell, Colab badges, and student copies.

Command line (from the repository root):
    python -m mtl_course.course student [OUT]   write student copies (solutions removed) to OUT (default: student/)
    python -m mtl_course.course student --until-first-stub OUT
                                                the same, each cut after its first exercise stub: what
                                                `make test` runs under nbval to check a student's copy
    python -m mtl_course.course nbgrader OUT      write each notebook as an nbgrader assignment, OUT/<name>/<name>.ipynb
    python -m mtl_course.course sync            rewrite every notebook's setup cell and Colab badge (and the README's) from pyproject.toml
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
CLONE_DIR = "/content/mtl-course"
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
    if not os.path.isdir("{CLONE_DIR}"):
        subprocess.run(["git", "clone", "--depth", "1", "{repo}", "{CLONE_DIR}"], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "-e", "{CLONE_DIR}"], check=True)
    sys.path.insert(0, "{CLONE_DIR}")'''


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


def write_student_copies(out: Path = ROOT / "student", until_stub: bool = False) -> list[Path]:
    """Write a student copy of every notebook into `out` (git ignores student/ and _build/)."""
    written = []
    for path in notebook_paths():
        target = out / path.name
        save((until_first_stub if until_stub else student_copy)(load(path)), target)
        written.append(target)
    return written


def nbgrader_copy(notebook: dict) -> dict:
    """The notebook with nbgrader's cell metadata: each solution an autograded answer, its check a 1-point test."""
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
    return copy


def write_nbgrader_assignments(out: Path) -> list[Path]:
    """Write every notebook as an nbgrader assignment: out/<name>/<name>.ipynb (out is nbgrader's source/)."""
    written = []
    for path in notebook_paths():
        target = out / path.stem / path.name
        save(nbgrader_copy(load(path)), target)
        written.append(target)
    return written


def sync(path: Path, repo: str | None = None) -> bool:
    """Rewrite a notebook's setup cell and Colab badge from the repository address; True if it changed."""
    notebook = load(path)
    before = json.dumps(notebook)
    rel = path.resolve().relative_to(ROOT).as_posix()
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown" and BADGE.search(source(cell)):
            _set_source(cell, BADGE.sub(colab_badge(rel, repo).replace("\\", "\\\\"), source(cell)))
    first_code = next(c for c in notebook["cells"] if c["cell_type"] == "code")
    _set_source(first_code, setup_cell(repo))
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


def main(argv: list[str]) -> int:
    """Command-line entry point (see the module docstring)."""
    if argv[:1] == ["student"]:
        until_stub = "--until-first-stub" in argv
        rest = [a for a in argv[1:] if a != "--until-first-stub"]
        out = Path(rest[0]) if rest else ROOT / "student"
        for path in write_student_copies(out, until_stub):
            print(f"wrote {path}")
        return 0
    if argv[:1] == ["nbgrader"] and len(argv) == 2:
        for path in write_nbgrader_assignments(Path(argv[1])):
            print(f"wrote {path}")
        return 0
    if argv[:1] == ["sync"]:
        for path in notebook_paths():
            print(f"{'updated' if sync(path) else 'unchanged'} {path.relative_to(ROOT)}")
        print(f"{'updated' if sync_readme() else 'unchanged'} README.md")
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
