"""Split JSON-lines text into its lines the way iterating a file does: on "\\n" only.

``str.splitlines()`` also breaks at U+2028, U+2029, U+0085, U+001C-U+001E, "\\v" and "\\f",
which are legal, unescaped, *inside* JSON strings (real benchmark text contains them), so it
would cut a valid record in two. A trailing "\\r" (Windows line ends) is dropped."""
from __future__ import annotations


def json_lines(text: str) -> list[tuple[int, str]]:
    """``(line number from 1, line)`` of every non-blank line of ``text``."""
    out = []
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if line.strip():
            out.append((number, line))
    return out
