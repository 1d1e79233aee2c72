"""Student copies: what they contain, what of them runs, and that writing them never loses a student's work.

`make test` does not run the student copies under nbval. Instead:
- each copy is shown here to equal its notebook cell for cell except the solution cells, which are
  exactly the notebook's solutions with each solution replaced by the stub; so everything a student
  runs before the first exercise is the notebook's own code, which nbval runs (notebooks/);
- what differs is executed here: each exercise's stub cell and the check cell after it, as the copy
  has them. The check must fail with a hint that names NotImplementedError, as a student sees it.
"""
from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from mtl_course import course

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = course.notebook_paths()
PRELUDE = "import torch\nfrom torch import nn\nimport mtl_course as mc\n"


@pytest.fixture(scope="module")
def copies(tmp_path_factory) -> Path:
    """Student copies of every notebook, written by the command line as `make student` writes them."""
    out = tmp_path_factory.mktemp("student")
    assert course.main(["student", str(out)]) == 0
    return out


def _fingerprint(folder: Path) -> dict[str, bytes]:
    """Every file under a folder with its bytes, to show that a command left it as it was."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_student_copy_equals_its_notebook_except_the_solutions(copies, path):
    """So the notebook's nbval run covers every cell of the copy up to (not including) the first stub."""
    notebook, copy = course.load(path), course.load(copies / path.name)
    assert len(copy["cells"]) == len(notebook["cells"])
    solutions = 0
    for i, (cell, copied) in enumerate(zip(notebook["cells"], copy["cells"])):
        assert copied["cell_type"] == cell["cell_type"], f"{path.name} cell {i}"
        if cell["cell_type"] == "code" and course.BEGIN in course.source(cell):
            solutions += 1
            expected = course.strip_solutions(course.source(cell))
            assert course.source(copied) == expected and "raise NotImplementedError()" in expected, f"{path.name} cell {i}"
        else:
            assert course.source(copied) == course.source(cell), f"{path.name} cell {i} differs from the notebook"
        if copied["cell_type"] == "code":
            assert copied["outputs"] == [] and copied["execution_count"] is None
    assert solutions >= 1, f"{path.name} has no exercise"


def _stubs_and_checks(copy: dict) -> list[tuple[str, str]]:
    """(stub cell, the check cell that grades it) for every exercise of a student copy."""
    cells = [course.source(c) for c in copy["cells"] if c["cell_type"] == "code"]
    pairs = []
    for i, src in enumerate(cells):
        if "raise NotImplementedError()" in src and course.STUB.splitlines()[0] in src:
            name = re.search(r"^def (\w+)\(", src, flags=re.M).group(1)
            check = next((c for c in cells[i + 1:] if re.search(rf"assert check_\w+\({name}\b", c)), None)
            assert check is not None, f"no `assert check_...({name})` cell after the stub of {name}"
            pairs.append((src, check))
    return pairs


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_student_copy_stubs_raise_and_their_checks_give_a_hint(copies, path):
    """Run the copy's own stub and check cells (what differs from the notebook): each check fails with a hint."""
    pairs = _stubs_and_checks(course.load(copies / path.name))
    assert pairs, f"{path.name}: the student copy has no exercise stub"
    for stub, check in pairs:
        namespace: dict = {}
        exec(PRELUDE + stub, namespace)
        out = io.StringIO()
        with contextlib.redirect_stdout(out), pytest.raises(AssertionError):
            exec(check, namespace)
        printed = out.getvalue()
        assert "Hint:" in printed and "NotImplementedError" in printed and "✅" not in printed, printed


def test_a_second_run_keeps_edited_copies_and_writes_missing_ones(tmp_path, capsys):
    assert course.main(["student", str(tmp_path)]) == 0
    edited, removed = tmp_path / NOTEBOOKS[0].name, tmp_path / NOTEBOOKS[-1].name
    work = edited.read_text(encoding="utf-8").replace("raise NotImplementedError()", "return 42  # my answer", 1)
    edited.write_text(work, encoding="utf-8")
    removed.unlink()
    capsys.readouterr()
    assert course.main(["student", str(tmp_path)]) == 0
    said = capsys.readouterr().out
    assert edited.read_text(encoding="utf-8") == work, "a second run overwrote a student's edited copy"
    assert f"kept  {edited}" in said and "--force" in said
    assert removed.exists() and f"wrote {removed}" in said
    assert said.count("wrote ") == 1 and said.count("kept ") == len(NOTEBOOKS) - 1
    assert course.main(["student", "--force", str(tmp_path)]) == 0
    assert edited.read_text(encoding="utf-8") != work and "raise NotImplementedError()" in edited.read_text(encoding="utf-8")


def test_nbgrader_assignments_are_kept_on_a_second_run(tmp_path, capsys):
    assert course.main(["nbgrader", str(tmp_path)]) == 0
    target = tmp_path / NOTEBOOKS[1].stem / NOTEBOOKS[1].name
    target.write_text("{}", encoding="utf-8")
    assert course.main(["nbgrader", str(tmp_path)]) == 0
    assert target.read_text(encoding="utf-8") == "{}" and f"kept  {target}" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["student", "notebooks"], ["student", "notebooks/"], ["student", "./notebooks/../notebooks"],
                                  ["student", "notebooks/student"], ["student", "--force", "notebooks"],
                                  ["nbgrader", "notebooks"]], ids=" ".join)
def test_copies_are_never_written_into_the_source_notebooks(argv, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    before = _fingerprint(ROOT / "notebooks")
    with pytest.raises(SystemExit) as exit_:
        course.main(argv)
    assert exit_.value.code == 2
    error = capsys.readouterr().err
    assert "source folder" in error and f"out={str(Path(argv[-1]))!r}" in error and "Choose another folder" in error, error
    assert _fingerprint(ROOT / "notebooks") == before


def test_the_source_folder_is_refused_by_absolute_path_too():
    with pytest.raises(ValueError, match="source folder"):
        course.write_student_copies(course.NOTEBOOKS)
    with pytest.raises(ValueError, match="source folder"):
        course.write_nbgrader_assignments(course.NOTEBOOKS / "source")


@pytest.mark.parametrize("argv", [["--help"], ["-h"], ["student", "--help"], ["student", "-h"], ["student", "out", "--help"],
                                  ["nbgrader", "--help"], ["sync", "--help"]], ids=" ".join)
def test_help_prints_usage_and_does_nothing_else(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    before = _fingerprint(ROOT / "notebooks"), (ROOT / "README.md").read_bytes()
    with pytest.raises(SystemExit) as exit_:
        course.main(argv)
    assert exit_.value.code == 0
    printed = capsys.readouterr().out
    assert printed.startswith("usage: python -m mtl_course.course"), printed
    if argv[0] != "--help" and argv[0] != "-h":
        assert f"mtl_course.course {argv[0]}" in printed.splitlines()[0]
    assert list(tmp_path.iterdir()) == [], "--help wrote files"
    assert (_fingerprint(ROOT / "notebooks"), (ROOT / "README.md").read_bytes()) == before


def test_no_command_or_an_unknown_one_prints_usage_and_fails(capsys):
    for argv in ([], ["studnet"], ["nbgrader"]):
        with pytest.raises(SystemExit) as exit_:
            course.main(argv)
        assert exit_.value.code == 2
        assert "usage:" in capsys.readouterr().err


def test_a_file_is_refused_as_the_output_folder(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match=r"out=.*file.* is a file, not a folder"):
        course.write_student_copies(tmp_path / "file")
