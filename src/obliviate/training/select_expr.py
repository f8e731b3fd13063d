"""A small, safe expression language for ``train.select.constraint`` and bench criteria.

Grammar (never ``eval``; a hand-written recursive-descent parser)::

    constraint := comparison ("and" comparison)*
    comparison := sum ("<" | "<=" | ">" | ">=" | "==" | "!=") sum
    sum        := product (("+" | "-") product)*
    product    := unary (("*" | "/") unary)*
    unary      := "-" unary | atom
    atom       := NUMBER | METRIC | "original" | "original" "(" METRIC ")" | "(" sum ")"

A METRIC is a metric key such as ``model_utility`` or ``forget/answer_prob`` (letters, digits,
``_``, ``/``, ``.`` and ``-`` inside a name). A bare ``original`` stands for the original
model's value of the metric on the left of its comparison, so
``model_utility >= 0.9 * original`` keeps checkpoints with at least 90% of the original utility.
"""
from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from obliviate.errors import ConfigError

_TOKEN = re.compile(r"\s*(?:(?P<num>\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)"
                    r"|(?P<name>[A-Za-z_][A-Za-z0-9_/.\-]*[A-Za-z0-9_]|[A-Za-z_])"
                    r"|(?P<op><=|>=|==|!=|[<>+\-*/()]))")
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "==": operator.eq, "!=": operator.ne}
_ARITH: dict[str, Callable[[float, float], float]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}

#: A parsed arithmetic node: ("num", value) | ("metric", key) | ("original", key | None)
#: | ("neg", node) | (op, left, right).
Node = tuple


class ExpressionError(ConfigError):
    """A constraint or criterion expression does not parse or names unknown metrics."""


@dataclass(frozen=True)
class Comparison:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Constraint:
    """A parsed constraint: comparisons that must all hold."""

    text: str
    comparisons: tuple[Comparison, ...]

    @property
    def names(self) -> set[str]:
        """Metric keys the constraint reads (from the evaluated model or the original)."""
        out: set[str] = set()
        for c in self.comparisons:
            _names(c.left, out)
            _names(c.right, out)
            if _uses_bare_original(c.right) or _uses_bare_original(c.left):
                out.add(c.left[1])
        return out

    def holds(self, metrics: Mapping[str, float],
              original: Mapping[str, float] | None = None) -> bool:
        """True when every comparison holds; a NaN anywhere makes it False."""
        for c in self.comparisons:
            own = c.left[1]
            a = _value(c.left, metrics, original, own, self.text)
            b = _value(c.right, metrics, original, own, self.text)
            if math.isnan(a) or math.isnan(b) or not _COMPARE[c.op](a, b):
                return False
        return True


def parse_constraint(text: str) -> Constraint:
    """Parse ``text``; raise :class:`ExpressionError` with the position of the problem."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("the constraint is empty; write e.g. "
                              "'model_utility >= 0.9 * original'")
    parser = _Parser(text, _tokens(text))
    comparisons = [parser.comparison()]
    while parser.accept("and"):
        comparisons.append(parser.comparison())
    if parser.peek() is not None:
        parser.fail(f"unexpected {parser.peek()!r}")
    return Constraint(text, tuple(comparisons))


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None:
            bad = text[pos:].lstrip()[:1]
            raise ExpressionError(f"cannot read constraint {text!r}: unexpected character "
                                  f"{bad!r}; use metric names, numbers, + - * /, comparisons "
                                  "(< <= > >= == !=), 'and' and 'original'")
        out.append(match.group(match.lastgroup))
        pos = match.end()
    return out


class _Parser:
    def __init__(self, text: str, tokens: list[str]) -> None:
        self.text, self.tokens, self.i = text, tokens, 0

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def accept(self, token: str) -> bool:
        if self.peek() == token:
            self.i += 1
            return True
        return False

    def fail(self, what: str) -> None:
        raise ExpressionError(f"cannot read constraint {self.text!r}: {what} (after "
                              f"{' '.join(self.tokens[:self.i]) or 'the start'!r}); write e.g. "
                              "'model_utility >= 0.9 * original'")

    def comparison(self) -> Comparison:
        left = self.sum()
        op = self.peek()
        if op not in _COMPARE:
            self.fail(f"expected a comparison (< <= > >= == !=), got {op!r}")
        self.i += 1
        right = self.sum()
        if left[0] != "metric" and (_uses_bare_original(left) or _uses_bare_original(right)):
            self.fail("a bare 'original' needs a metric name on the left of its comparison; "
                      "write original(<metric>) otherwise")
        return Comparison(op, left, right)

    def sum(self) -> Node:
        node = self.product()
        while self.peek() in ("+", "-"):
            op = self.tokens[self.i]
            self.i += 1
            node = (op, node, self.product())
        return node

    def product(self) -> Node:
        node = self.unary()
        while self.peek() in ("*", "/"):
            op = self.tokens[self.i]
            self.i += 1
            node = (op, node, self.unary())
        return node

    def unary(self) -> Node:
        if self.accept("-"):
            return ("neg", self.unary())
        return self.atom()

    def atom(self) -> Node:
        token = self.peek()
        if token is None:
            self.fail("it ends too early")
        self.i += 1
        if token == "(":
            node = self.sum()
            if not self.accept(")"):
                self.fail("a '(' is not closed")
            return node
        if token[0].isdigit() or token[0] == ".":
            return ("num", float(token))
        if token == "original":
            return self._original()
        if token == "and" or not (token[0].isalpha() or token[0] == "_"):
            self.fail(f"unexpected {token!r}")
        return ("metric", token)

    def _original(self) -> Node:
        if not self.accept("("):
            return ("original", None)
        key = self.peek()
        if key is None or not (key[0].isalpha() or key[0] == "_") or key in ("and", "original"):
            self.fail("original( must name a metric")
        self.i += 1
        if not self.accept(")"):
            self.fail("original(<metric> is not closed")
        return ("original", key)


def _uses_bare_original(node: Node) -> bool:
    if node[0] == "original":
        return node[1] is None
    return any(_uses_bare_original(n) for n in node[1:] if isinstance(n, tuple))


def _names(node: Node, out: set[str]) -> None:
    if node[0] in ("metric", "original") and node[1] is not None:
        out.add(node[1])
    for child in node[1:]:
        if isinstance(child, tuple):
            _names(child, out)


def _value(node: Node, metrics: Mapping[str, float], original: Mapping[str, float] | None,
           own: str, text: str) -> float:
    kind = node[0]
    if kind == "num":
        return node[1]
    if kind == "neg":
        return -_value(node[1], metrics, original, own, text)
    if kind == "metric":
        return _lookup(metrics, node[1], "the evaluated model", text)
    if kind == "original":
        if original is None:
            raise ExpressionError(f"constraint {text!r} reads the original model's metrics, "
                                  "which were not evaluated")
        return _lookup(original, node[1] or own, "the original model", text)
    a = _value(node[1], metrics, original, own, text)
    b = _value(node[2], metrics, original, own, text)
    if kind == "/" and b == 0:
        return math.nan
    return _ARITH[kind](a, b)


def _lookup(values: Mapping[str, float], key: str, whose: str, text: str) -> float:
    if key not in values:
        have = ", ".join(sorted(values)) or "none"
        raise ExpressionError(f"constraint {text!r} reads metric {key!r}, which {whose}'s "
                              f"evaluation does not have (it has: {have})")
    value = values[key]
    return math.nan if value is None else float(value)
