"""Reading TOML config text into typed values with errors that name the file, the line and the reason.

``tomllib`` keeps no positions, so :class:`SourceMap` scans the raw text once and records the line of
every table header and key (array-of-tables elements by index, one-per-line inline tables in arrays by
index too).  :class:`Section` wraps a parsed table with its path and refuses wrong types and unknown
keys at the right line.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

Path = tuple[str | int, ...]

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*((?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*'))*)\s*=")
_INLINE_KEY = re.compile(r"([A-Za-z0-9_-]+)\s*=")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


class ConfigError(ValueError):
    """Bad configuration, refused at load: ``file:line: reason``."""

    def __init__(self, file: str, line: int, reason: str) -> None:
        super().__init__(f"{file}:{line}: {reason}")
        self.file = file
        self.line = line
        self.reason = reason

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.file, self.line, self.reason)


def _split_dotted(text: str) -> list[str]:
    return [part.strip().strip("\"'") for part in re.findall(r"\"[^\"]*\"|'[^']*'|[^.]+", text)]


def _depth_change(line: str) -> tuple[int, bool]:
    """Bracket depth change of a line outside strings and comments, and whether a multi-line string
    opens or closes on it."""
    depth = 0
    toggles = line.count('"""') + line.count("'''")
    stripped = re.sub(r"\"(?:[^\"\\]|\\.)*\"|'[^']*'", "", line.replace('"""', "").replace("'''", ""))
    stripped = stripped.split("#", 1)[0]
    for char in stripped:
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
    return depth, toggles % 2 == 1


class SourceMap:
    """Line numbers of tables and keys of one TOML text."""

    def __init__(self, text: str) -> None:
        self.lines: dict[Path, int] = {}
        arrays: dict[Path, int] = {}
        current: Path = ()
        depth = 0
        in_string = False
        array_path: Path | None = None
        elements = 0
        for number, line in enumerate(text.splitlines(), start=1):
            if in_string:
                in_string = not _depth_change(line)[1]
                continue
            if depth > 0:
                change, _ = _depth_change(line)
                if array_path is not None and depth == 1 and line.strip().startswith("{"):
                    element = (*array_path, elements)
                    self.lines.setdefault(element, number)
                    for key in _INLINE_KEY.findall(line.split("#", 1)[0]):
                        self.lines.setdefault((*element, key), number)
                    elements += 1
                depth += change
                continue
            header = _HEADER.match(line)
            if header:
                names = _split_dotted(header.group(2))
                if header.group(1) == "[[":
                    parent = self._resolve(names[:-1], arrays)
                    key = (*parent, names[-1])
                    arrays[key] = arrays.get(key, -1) + 1
                    current = (*key, arrays[key])
                else:
                    current = self._resolve(names, arrays)
                self.lines.setdefault(current, number)
                continue
            key_match = _KEY.match(line)
            if key_match:
                path = (*current, *_split_dotted(key_match.group(1)))
                self.lines.setdefault(path, number)
                rest = line[key_match.end():]
                change, toggled = _depth_change(rest)
                in_string = toggled
                if change > 0:
                    depth = change
                    array_path, elements = path, 0

    @staticmethod
    def _resolve(names: list[str], arrays: Mapping[Path, int]) -> Path:
        path: Path = ()
        for name in names:
            path = (*path, name)
            if path in arrays:
                path = (*path, arrays[path])
        return path

    def line_of(self, path: Path) -> int:
        """The line of ``path``, or of its nearest recorded ancestor; 1 when nothing is known."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return 1


def parse_toml(text: str, file: str) -> tuple[dict[str, Any], SourceMap]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        raise ConfigError(file, int(found.group(1)) if found else 1, f"not valid TOML: {exc}") from None
    return data, SourceMap(text)


_REQUIRED: Any = object()


@dataclass(frozen=True, slots=True)
class Section:
    """One parsed TOML table with its path, for typed reads that fail at the right line."""

    data: Mapping[str, Any]
    path: Path
    file: str
    source: SourceMap

    def fail(self, key: str | int | None, reason: str) -> NoReturn:
        path = self.path if key is None else (*self.path, key)
        raise ConfigError(self.file, self.source.line_of(path), reason)

    def where(self, key: str | int | None = None) -> str:
        parts = [str(p) if isinstance(p, str) else f"[{p}]" for p in (*self.path, *([] if key is None else [key]))]
        return ".".join(parts).replace(".[", "[")

    def only(self, *allowed: str) -> None:
        for key in self.data:
            if key not in allowed:
                self.fail(key, f"unknown key {self.where(key)!r} (allowed: {', '.join(allowed)})")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = _REQUIRED) -> Any:
        if key not in self.data:
            if default is _REQUIRED:
                self.fail(None, f"{self.where(key)!r} is required")
            return default
        value = self.data[key]
        if not isinstance(value, kind) or isinstance(value, bool) and kind in (int, float, (int, float)):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            self.fail(key, f"{self.where(key)!r} must be {names}, got {value!r}")
        return value

    def strings(self, key: str, default: Any = _REQUIRED) -> list[str]:
        values = self.get(key, list, default)
        if any(not isinstance(v, str) for v in values):
            self.fail(key, f"{self.where(key)!r} must be a list of strings")
        return list(values)

    def duration(self, key: str, default: Any = _REQUIRED) -> float | None:
        """Seconds from a number or a text such as ``"90s"``, ``"15m"``, ``"4h"``, ``"2d"``."""
        if key not in self.data and default is not _REQUIRED:
            return default
        value = self.get(key, (int, float, str))
        if isinstance(value, str):
            found = _DURATION.match(value)
            if not found:
                self.fail(key, f"{self.where(key)!r}: {value!r} is not a duration like 90s, 15m, 4h, 2d")
            value = float(found.group(1)) * _UNITS[found.group(2)]
        if value <= 0:
            self.fail(key, f"{self.where(key)!r} must be positive")
        return float(value)

    def table(self, key: str, default: Any = _REQUIRED) -> Section:
        value = self.get(key, dict, default)
        return Section(value if value is not None else {}, (*self.path, key), self.file, self.source)

    def tables(self, key: str) -> Iterator[Section]:
        values = self.get(key, list, [])
        for index, value in enumerate(values):
            if not isinstance(value, dict):
                self.fail(key, f"{self.where(key)}[{index}] must be a table")
            yield Section(value, (*self.path, key, index), self.file, self.source)

    def items(self) -> Iterator[tuple[str, Section]]:
        for key, value in self.data.items():
            if not isinstance(value, dict):
                self.fail(key, f"{self.where(key)!r} must be a table")
            yield key, Section(value, (*self.path, key), self.file, self.source)

    def check(self, key: str, ok: bool, reason: str) -> None:
        if not ok:
            self.fail(key, reason)

    def guard(self, key: str, action: Callable[[], Any]) -> Any:
        """Run ``action``; a ValueError it raises is refused at ``key``'s line."""
        try:
            return action()
        except ValueError as exc:
            self.fail(key, f"{self.where(key)!r}: {exc}")
