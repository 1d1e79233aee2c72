"""Find the shipped data files and check that they are intact before anything reads them."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

# SHA-256 of each file exactly as stored in data/ (provenance and licenses: data/README.md).
CHECKSUMS = {
    "mnist/t10k-images-idx3-ubyte.gz": "167310007f03058885c7e95e6c0b19c20de5c7fd3031f4cbdadc9014a523d80b",
    "mnist/t10k-labels-idx1-ubyte.gz": "fc607395669ec21321ea83e4b82c0544b7e8e63ff5b34337c06bc0a17cc0da3c",
    "adult/adult.data.gz": "c7a2b4716a97f930123e0baf879188d701e798172631a654fc703d4b082907f3",
}

ENV_VAR = "MTL_COURSE_DATA"


class DataFileError(FileNotFoundError):
    """A shipped data file is missing or does not match its checksum."""


def data_dir() -> Path:
    """The folder holding the data: $MTL_COURSE_DATA if set, else `data/` at the repository root."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    return Path(__file__).resolve().parents[2] / "data"


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verified_path(name: str) -> Path:
    """Path of the shipped file `name` (e.g. "mnist/t10k-labels-idx1-ubyte.gz") after checking its SHA-256."""
    if name not in CHECKSUMS:
        raise KeyError(f"Unknown data file {name!r}; the course ships {sorted(CHECKSUMS)}.")
    path = data_dir() / name
    fix = (f"Restore it from the repository (git checkout -- data/{name}), or point ${ENV_VAR} "
           "at a folder that holds the course's data/ files.")
    if not path.is_file():
        raise DataFileError(f"Data file {name!r} is missing: looked for {path}. {fix}")
    actual = sha256(path)
    if actual != CHECKSUMS[name]:
        raise DataFileError(f"Data file {name!r} is corrupt: {path} has SHA-256 {actual[:12]}…, "
                            f"expected {CHECKSUMS[name][:12]}…. {fix}")
    return path
