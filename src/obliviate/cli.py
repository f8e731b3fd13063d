"""``obliviate <command>``: parses arguments and calls the Python API (``commands/``).

User errors (:class:`ObliviateError`) print one line on stderr and exit with status 2.
"""
from __future__ import annotations

import argparse
import errno
import importlib
import sys
from collections.abc import Sequence

from obliviate import __version__
from obliviate.commands import COMMANDS
from obliviate.commands._args import OneLineParser
from obliviate.errors import ObliviateError
from obliviate.outputs import Terminated, install_signal_cleanup


#: Storage errors a user fixes (disk or quota full, read-only file system, no permission).
_STORAGE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="obliviate", description="Machine unlearning for large language models: "
        "unlearn, evaluate, attack and report.")
    parser.add_argument("--version", action="version", version=f"obliviate {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                parser_class=OneLineParser)
    for name in COMMANDS:
        importlib.import_module(f"obliviate.commands.{name}").add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    install_signal_cleanup()  # SIGTERM cleans up like Ctrl-C
    try:
        return args.handler(args)
    except ObliviateError as err:
        print(f"obliviate: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        if err.errno not in _STORAGE_ERRORS:
            raise
        where = f" {err.filename}" if err.filename else ""
        print(f"obliviate: error: cannot write{where}: {err.strerror or err}; free some space "
              "or choose another output folder (nothing half-written was kept)", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, Terminated) as err:
        what = "terminated" if isinstance(err, Terminated) else "interrupted"
        print(f"obliviate: {what}; nothing half-written was kept (a run with train.save_every "
              "keeps its last checkpoint: continue it with `obliviate run ... --resume`)",
              file=sys.stderr)
        return 143 if isinstance(err, Terminated) else 130


if __name__ == "__main__":
    sys.exit(main())
