"""The one YAML reader for files people give us: plan files, SUT classes, webhooks, the library.

PyYAML's safe loader still expands aliases (a "billion laughs" document grows
without bound), recurses once per nesting level (a RecursionError deep down),
turns any digit string into an int (a 5,000-digit one raises ValueError), reads
`.nan` and `.inf`, and lets a duplicate key silently replace the first. This
loader refuses each of those with an InputError that names the line.
"""

from __future__ import annotations

import math
from typing import Any

import yaml

from fastpath.errors import InputError

MAX_DEPTH = 64  # nesting levels; no file of ours comes near it
MAX_DIGITS = 30  # an integer of more digits is a mistake (and int() refuses 4,300)
MAX_BYTES = 16 * 1024 * 1024


class _Refused(yaml.YAMLError):
    def __init__(self, problem: str, mark) -> None:
        super().__init__(problem)
        self.problem, self.problem_mark = problem, mark


class _Loader(yaml.SafeLoader):
    depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _Refused(f"aliases are not allowed (*{event.anchor}); write the value out",
                           event.start_mark)
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _Refused(f"nested deeper than {MAX_DEPTH} levels", self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:  # an unhashable key: the base class names it
                    continue
                if first is not None:
                    raise _Refused(f"duplicate key {str(key)[:80]!r} (first on line {first})",
                                   key_node.start_mark)
                seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def _int(loader: _Loader, node: yaml.ScalarNode) -> int:
    digits = sum(c.isalnum() for c in str(node.value))  # 0x and 0b spellings too
    if digits > MAX_DIGITS:
        raise _Refused(f"an integer of {digits} digits is too large (at most {MAX_DIGITS})",
                       node.start_mark)
    return yaml.SafeLoader.construct_yaml_int(loader, node)


def _float(loader: _Loader, node: yaml.ScalarNode) -> float:
    value = yaml.SafeLoader.construct_yaml_float(loader, node)
    if not math.isfinite(value):
        raise _Refused(f"{str(node.value)[:40]!r} is not a finite number (NaN and Infinity "
                       "are not allowed)", node.start_mark)
    return value


_Loader.add_constructor("tag:yaml.org,2002:int", _int)
_Loader.add_constructor("tag:yaml.org,2002:float", _float)


def load(text: str | bytes, source: str) -> Any:
    """The document in `text`; InputError(source, "line N, column M", problem) otherwise."""
    if len(text) > MAX_BYTES:
        raise InputError(source, "", f"larger than {MAX_BYTES} bytes")
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506  # _Loader is a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(source, where, f"malformed YAML: {problem}") from exc
    except RecursionError as exc:  # belt and braces: the depth bound should prevent it
        raise InputError(source, "", f"malformed YAML: nested deeper than {MAX_DEPTH} levels") from exc
