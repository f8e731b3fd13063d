"""Output folders and files: checked before any expensive step, written under a temporary name
and renamed only when complete, readable as the umask says, cleaned up on SIGINT and SIGTERM.

- :func:`check_output_dir` refuses an output that is, contains or lies inside an input (model,
  data files, reference results), whatever ``overwrite`` says, an output path that is or sits
  under a file, and a folder that cannot be written.
- :func:`atomic_dir` yields ``.NAME.partial-PID`` next to ``NAME``; on success the files get the
  umask's modes and the folder is renamed. On an error it is deleted, unless it holds a resumable
  checkpoint (``training/checkpoint.py``) and training did not diverge.
- :func:`install_signal_cleanup` turns SIGTERM into an exception, so that the same clean-up runs
  as for Ctrl-C; :func:`sweep_stale_partials` removes partial folders of processes that died.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
from collections.abc import Iterator, Sequence
from pathlib import Path

from obliviate.errors import ConfigError, TrainingError

CHECKPOINT = "checkpoints"  # training/checkpoint.py: CHECKPOINT/latest.json
_PARTIAL = re.compile(r"^\.(?P<name>.+)\.partial-(?P<pid>\d+)$")


class Terminated(BaseException):
    """SIGTERM arrived; raised in the main thread so that ``finally`` / ``except`` blocks run."""


def umask() -> int:
    """The process umask (read without changing it for longer than the call)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def honour_umask(path: Path) -> None:
    """Give ``path`` (a file, or a folder and everything below it) the modes a plain ``open`` /
    ``mkdir`` would have: 0666 / 0777 less the umask. Temporary-file helpers make 0600."""
    mask = umask()
    path = Path(path)
    items = [path, *path.rglob("*")] if path.is_dir() else [path]
    for item in items:
        if item.is_symlink():
            continue
        os.chmod(item, (0o777 if item.is_dir() else 0o666) & ~mask)


def _relation(out: Path, source: Path) -> str | None:
    if out == source:
        return "is"
    if source in out.parents:
        return "lies inside"
    if out in source.parents:
        return "contains"
    return None


def _kind(source: Path) -> str:
    if (source / "config.json").is_file() or (source / "adapter_config.json").is_file():
        return "model's directory"
    return "folder" if source.is_dir() else "file"


def check_not_input(out: Path, protected: Sequence[Path | str], what: str = "output_dir") -> None:
    """Refuse an output folder that is, contains or lies inside an input (file or folder)."""
    out = Path(out).expanduser().resolve()
    for source in protected:
        if not source:
            continue
        source = Path(source).expanduser()
        if not source.exists():
            continue
        relation = _relation(out, source.resolve())
        if relation:
            raise ConfigError(f"{what} {out} {relation} the input {_kind(source)} "
                              f"{source.resolve()}; choose "
                              "another folder (inputs are never modified, whatever overwrite "
                              "says)")


def check_writable_location(out: Path, what: str = "output_dir") -> None:
    """Refuse an output path that is a file, sits under a file, or cannot be created/written."""
    out = Path(out).expanduser().resolve()
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{what} {out} is a file, not a folder; choose a folder path")
    existing = out
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(f"{what} {out} cannot be created: {existing} is a file; choose "
                          "another path")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"{what} {out} cannot be written: no write permission on "
                          f"{existing}; choose a folder you can write to")
    if out.exists() and out.parent.exists() and not os.access(out.parent, os.W_OK | os.X_OK):
        raise ConfigError(f"{what} {out} cannot be replaced: no write permission on "
                          f"{out.parent}; choose a folder you can write to")


def check_output_dir(out: Path, overwrite: bool, protected: Sequence[Path | str] = ()) -> None:
    """All the checks an output folder gets before anything expensive runs."""
    check_not_input(out, protected)
    check_writable_location(out)
    out = Path(out).expanduser().resolve()
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise ConfigError(f"output_dir {out} already exists and is not empty; choose another "
                          "output_dir or pass overwrite=true")


#: Partial folders this process is writing now (its own stale ones, e.g. of a run stopped by
#: Ctrl-C in a notebook, may be swept or resumed).
_ACTIVE: set[Path] = set()


def _alive(pid: int, folder: Path) -> bool:
    if pid == os.getpid():
        return folder.resolve() in _ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def stale_partials(out: Path) -> list[Path]:
    """``.NAME.partial-PID`` folders next to ``out`` whose process is gone."""
    out = Path(out)
    if not out.parent.is_dir():
        return []
    found = []
    for item in out.parent.iterdir():
        match = _PARTIAL.match(item.name)
        if match and match["name"] == out.name and not _alive(int(match["pid"]), item):
            found.append(item)
    return sorted(found)


def resumable_partial(out: Path) -> Path | None:
    """The newest stale partial folder of ``out`` that holds a complete checkpoint, if any."""
    with_checkpoint = [p for p in stale_partials(out) if (p / CHECKPOINT / "latest.json").is_file()]
    return max(with_checkpoint, key=lambda p: p.stat().st_mtime) if with_checkpoint else None


def sweep_stale_partials(out: Path, keep: Path | None = None) -> list[Path]:
    """Delete the partial folders of ``out`` left by dead processes (except ``keep``)."""
    removed = []
    for item in stale_partials(out):
        if keep is None or item.resolve() != Path(keep).resolve():
            shutil.rmtree(item, ignore_errors=True)
            removed.append(item)
    return removed


def _keep_for_resume(tmp: Path, error: BaseException) -> bool:
    """A run that stopped with a checkpoint keeps it, unless training diverged (NaN)."""
    return (tmp / CHECKPOINT / "latest.json").is_file() and not isinstance(error, TrainingError)


@contextlib.contextmanager
def atomic_dir(out: Path, resume_from: Path | None = None) -> Iterator[Path]:
    """Yield a temporary sibling of ``out``; rename it to ``out`` on success, delete on error.

    ``resume_from``: a dead run's partial folder (see :func:`resumable_partial`), taken over
    instead of starting empty. Stale partial folders of dead processes are swept first.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.partial-{os.getpid()}"
    sweep_stale_partials(out, keep=resume_from)
    if resume_from is not None and Path(resume_from).resolve() != tmp.resolve():
        shutil.rmtree(tmp, ignore_errors=True)
        Path(resume_from).rename(tmp)
    elif resume_from is None:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
    _ACTIVE.add(tmp.resolve())
    try:
        yield tmp
    except BaseException as error:
        if not _keep_for_resume(tmp, error):
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        _ACTIVE.discard(tmp.resolve())
    shutil.rmtree(tmp / CHECKPOINT, ignore_errors=True)
    honour_umask(tmp)
    _replace(tmp, out)


def _replace(tmp: Path, out: Path) -> None:
    if out.exists():
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(out)


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated(f"signal {signum}")


def install_signal_cleanup() -> None:
    """Make SIGTERM raise :class:`Terminated` in the main thread (clean-up as for SIGINT)."""
    with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
        signal.signal(signal.SIGTERM, _raise_terminated)
