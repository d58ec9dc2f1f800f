"""A small, safe expression language for routing filters.

    channel == "voice" and priority in ["high", "urgent"] and segment != "vip"

Grammar (keywords are lower case)::

    expression := disjunct ("or" disjunct)*
    disjunct   := conjunct ("and" conjunct)*
    conjunct   := "not" conjunct | comparison
    comparison := operand [("==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not in" | "contains") operand]
    operand    := string | number | true | false | null | name | "[" [literal ("," literal)*] "]"
                  | "(" expression ")"

A text is parsed once into an :class:`Expression` (a tree of closures) and evaluated many times against a
mapping of conversation attributes.  Parsing refuses bad text with the 1-based column of the fault;
evaluation never raises: a missing attribute is ``null`` and a comparison between values of different
kinds is false.  Expressions compose with ``&``, ``|`` and ``~``.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

Attributes = Mapping[str, Any]
Test = Callable[[Attributes], Any]


class ExpressionError(ValueError):
    """The text does not parse; ``column`` is 1-based."""

    def __init__(self, reason: str, column: int) -> None:
        super().__init__(f"column {column}: {reason}")
        self.reason = reason
        self.column = column

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.reason, self.column)


@dataclass(frozen=True, slots=True)
class Reference:
    """An attribute compared with literal values (``segment in ["vip", "legal"]``): what a configuration
    check holds against the vocabulary of that attribute.  ``column`` is the literal's, 1-based."""

    attribute: str
    values: tuple[Any, ...]
    column: int


@dataclass(frozen=True, slots=True)
class Expression:
    """A parsed expression; call :meth:`test` with the conversation's attributes.  ``references`` are
    the attribute-to-literal comparisons it makes."""

    text: str
    _test: Test
    references: tuple[Reference, ...] = ()

    def test(self, attributes: Attributes) -> bool:
        return bool(self._test(attributes))

    def __and__(self, other: Expression) -> Expression:
        left, right = self._test, other._test
        return Expression(f"({self.text}) and ({other.text})", lambda a: left(a) and right(a),
                          self.references + other.references)

    def __or__(self, other: Expression) -> Expression:
        left, right = self._test, other._test
        return Expression(f"({self.text}) or ({other.text})", lambda a: left(a) or right(a),
                          self.references + other.references)

    def __invert__(self) -> Expression:
        inner = self._test
        return Expression(f"not ({self.text})", lambda a: not inner(a), self.references)


ALWAYS = Expression("true", lambda _a: True)

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<op>==|!=|<=|>=|<|>)
  | (?P<punct>[\[\](),])
""", re.VERBOSE)

_KEYWORDS = {"and", "or", "not", "in", "contains", "true", "false", "null"}
_LITERALS = {"true": True, "false": False, "null": None}


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # string, number, name, keyword, op, punct, end
    value: Any
    column: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            if text[position] in "\"'":
                raise ExpressionError("unterminated string", position + 1)
            raise ExpressionError(f"unexpected character {text[position]!r}", position + 1)
        kind = match.lastgroup or ""
        raw = match.group()
        column = position + 1
        position = match.end()
        if kind == "space":
            continue
        if kind == "string":
            value: Any = re.sub(r"\\(.)", r"\1", raw[1:-1])
        elif kind == "number":
            value = float(raw) if "." in raw else int(raw)
        elif kind == "name" and raw in _KEYWORDS:
            kind, value = "keyword", raw
        else:
            value = raw
        tokens.append(_Token(kind, value, column))
    tokens.append(_Token("end", None, len(text) + 1))
    return tokens


def _safe(compare: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def guarded(left: Any, right: Any) -> bool:
        try:
            return bool(compare(left, right))
        except TypeError:
            return False
    return guarded


def _member(left: Any, right: Any) -> bool:
    try:
        if isinstance(right, str):
            return isinstance(left, str) and left in right
        return isinstance(right, Collection) and not isinstance(right, bytes) and left in right
    except TypeError:  # an unhashable attribute value tested against a set of literals
        return False


_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": _safe(operator.lt),
    "<=": _safe(operator.le),
    ">": _safe(operator.gt),
    ">=": _safe(operator.ge),
    "in": _member,
    "not in": lambda left, right: not _member(left, right),
    "contains": lambda left, right: _member(right, left),
}


class _Parser:
    def __init__(self, text: str, names: Collection[str] | None) -> None:
        self.tokens = _tokenize(text)
        self.index = 0
        self.names = names
        self.references: list[Reference] = []
        self._operand: tuple[str, Any, int] | None = None  # what the last operand was: name or literal(s)

    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def at(self, kind: str, value: Any = None) -> bool:
        token = self.token
        return token.kind == kind and (value is None or token.value == value)

    def expect(self, kind: str, value: Any, what: str) -> None:
        if not self.at(kind, value):
            raise ExpressionError(f"expected {what}, found {self.describe(self.token)}", self.token.column)
        self.advance()

    @staticmethod
    def describe(token: _Token) -> str:
        return "end of expression" if token.kind == "end" else repr(str(token.value))

    def parse(self) -> Test:
        if self.at("end"):
            raise ExpressionError("empty expression", 1)
        test = self.disjunction()
        if not self.at("end"):
            raise ExpressionError(f"unexpected {self.describe(self.token)}", self.token.column)
        return test

    def disjunction(self) -> Test:
        parts = [self.conjunction()]
        while self.at("keyword", "or"):
            self.advance()
            parts.append(self.conjunction())
        if len(parts) == 1:
            return parts[0]
        return lambda a: any(part(a) for part in parts)

    def conjunction(self) -> Test:
        parts = [self.negation()]
        while self.at("keyword", "and"):
            self.advance()
            parts.append(self.negation())
        if len(parts) == 1:
            return parts[0]
        return lambda a: all(part(a) for part in parts)

    def negation(self) -> Test:
        if self.at("keyword", "not"):
            self.advance()
            inner = self.negation()
            return lambda a: not inner(a)
        return self.comparison()

    def comparison(self) -> Test:
        left = self.operand()
        left_kind = self._operand
        token = self.token
        if token.kind == "op" or token.kind == "keyword" and token.value in ("in", "contains"):
            name = self.advance().value
        elif token.kind == "keyword" and token.value == "not" and self.tokens[self.index + 1].value == "in":
            self.index += 2
            name = "not in"
        else:
            return left
        right = self.operand()
        self._refer(left_kind, self._operand)
        compare = _COMPARISONS[name]
        return lambda a: compare(left(a), right(a))

    def _refer(self, left: tuple[str, Any, int] | None, right: tuple[str, Any, int] | None) -> None:
        """Record an attribute compared with literals, whichever side each stands on."""
        if left is None or right is None or left[0] == right[0]:
            return
        (_, attribute, _), (_, values, column) = (left, right) if left[0] == "name" else (right, left)
        self.references.append(Reference(attribute, values, column))

    def operand(self) -> Test:
        token = self.token
        self._operand = None
        if token.kind in ("string", "number"):
            self.advance()
            value = token.value
            self._operand = ("values", (value,), token.column)
            return lambda _a: value
        if token.kind == "keyword" and token.value in _LITERALS:
            self.advance()
            value = _LITERALS[token.value]
            self._operand = ("values", (value,), token.column)
            return lambda _a: value
        if token.kind == "name":
            self.advance()
            self._operand = ("name", token.value, token.column)
            if self.names is not None and token.value not in self.names:
                known = ", ".join(sorted(self.names))
                raise ExpressionError(f"unknown attribute {token.value!r} (known: {known})", token.column)
            name = token.value
            return lambda a: a.get(name)
        if self.at("punct", "["):
            return self.list_literal()
        if self.at("punct", "("):
            self.advance()
            inner = self.disjunction()
            self.expect("punct", ")", "')'")
            self._operand = None
            return inner
        raise ExpressionError(f"expected a value or attribute, found {self.describe(token)}", token.column)

    def list_literal(self) -> Test:
        column = self.advance().column
        items: list[Any] = []
        while not self.at("punct", "]"):
            token = self.token
            if token.kind in ("string", "number"):
                items.append(token.value)
            elif token.kind == "keyword" and token.value in _LITERALS:
                items.append(_LITERALS[token.value])
            else:
                raise ExpressionError(f"lists hold literals only, found {self.describe(token)}", token.column)
            self.advance()
            if self.at("punct", ","):
                self.advance()
            elif not self.at("punct", "]"):
                raise ExpressionError(f"expected ',' or ']', found {self.describe(self.token)}",
                                      self.token.column)
        self.advance()
        self._operand = ("values", tuple(items), column)
        members = frozenset(items) if all(isinstance(i, str | int | float | bool) for i in items) else tuple(items)
        return lambda _a: members


def parse(text: str, names: Collection[str] | None = None) -> Expression:
    """Parse ``text`` once; with ``names`` given, any other attribute name is refused."""
    parser = _Parser(text, names)
    test = parser.parse()
    return Expression(text, test, tuple(parser.references))
