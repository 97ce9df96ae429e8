"""Find the source line of a TOML key path, so schema errors can point at the bad line.

``tomllib`` reports line and column for syntax errors only; once a file parses, pydantic
reports *where in the data* a value is wrong (``("threshold", "1h", "warning")``) but not
where in the file. This module maps such a path back to a line by scanning table headers
(``[a.b]``, ``[[a]]``) and ``key = value`` lines. It is a locator, not a parser: on any
construct it does not follow it returns the nearest enclosing line it did find.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_HEADER = re.compile(r"^\s*(\[\[?)(.*?)\]\]?\s*(#.*)?$")


def split_keys(text: str) -> tuple[str, ...] | None:
    """Split a dotted TOML key (``a."b.c".d``) into its parts; None if it is not one."""
    parts: list[str] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t":
            i += 1
        if i >= n:
            return None
        if text[i] in "\"'":
            quote = text[i]
            end = text.find(quote, i + 1)
            if end < 0:
                return None
            parts.append(text[i + 1 : end])
            i = end + 1
        else:
            match = _BARE.match(text, i)
            if not match:
                return None
            parts.append(match.group(0))
            i = match.end()
        while i < n and text[i] in " \t":
            i += 1
        if i < n:
            if text[i] != ".":
                return None
            i += 1
    return tuple(parts) if parts else None


def _key_of_line(line: str) -> tuple[str, ...] | None:
    """The dotted key a ``key = value`` line assigns, if the line is one."""
    in_quote: str | None = None
    for i, ch in enumerate(line):
        if in_quote:
            if ch == in_quote:
                in_quote = None
        elif ch in "\"'":
            in_quote = ch
        elif ch == "#":
            return None
        elif ch == "=":
            return split_keys(line[:i])
    return None


def key_paths(source: str) -> list[tuple[int, tuple[str | int, ...]]]:
    """Every (line number, full key path) the file defines, 1-based lines, in file order.

    Array-of-tables entries get their index in the path (``("source_silent", 0, "hours")``),
    as pydantic reports it.
    """
    out: list[tuple[int, tuple[str | int, ...]]] = []
    table: tuple[str | int, ...] = ()
    array_counts: dict[tuple[str, ...], int] = {}
    for lineno, line in enumerate(source.splitlines(), start=1):
        header = _HEADER.match(line)
        if header and not line.lstrip().startswith("[=") and _key_of_line(line) is None:
            keys = split_keys(header.group(2))
            if keys is None:
                continue
            if header.group(1) == "[[":
                index = array_counts.get(keys, 0)
                array_counts[keys] = index + 1
                table = (*keys, index)
            else:
                table = keys
            out.append((lineno, table))
            continue
        key = _key_of_line(line)
        if key is not None:
            out.append((lineno, (*table, *key)))
    return out


def line_of(source: str, path: Sequence[str | int]) -> int | None:
    """The line that defines ``path`` or, failing that, its nearest defined ancestor."""
    best: tuple[int, int] | None = None  # (matched length, line)
    target = tuple(path)
    for lineno, defined in key_paths(source):
        common = 0
        for a, b in zip(defined, target, strict=False):
            if a != b:
                break
            common += 1
        if common == len(defined) and (best is None or common > best[0]):
            best = (common, lineno)
    return best[1] if best else None
