"""Output directories written under a temporary name and renamed only when complete."""
from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from obliviate.errors import ConfigError


def check_output_dir(out: Path, overwrite: bool, protected: list[Path] = ()) -> None:
    """Refuse to write into an input model's directory or over an existing run."""
    out = out.resolve()
    for p in protected:
        p = p.resolve()
        if out == p or p in out.parents:
            raise ConfigError(f"output_dir {out} lies inside the input model's directory {p}; "
                              "choose another output_dir (input files are never modified)")
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise ConfigError(f"output_dir {out} already exists and is not empty; choose another "
                          "output_dir or pass overwrite=true")


@contextlib.contextmanager
def atomic_dir(out: Path) -> Iterator[Path]:
    """Yield a temporary sibling of ``out``; rename it to ``out`` on success, delete on error."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.partial-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if out.exists():
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(out)
