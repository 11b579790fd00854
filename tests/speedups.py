"""Test-run speed-ups that change no behaviour under test.

Every test builds a fresh app (``create_app``), and werkzeug compiles two URL builder functions
for each of the app's ~175 rules from a generated syntax tree: about nine tenths of the app
factory's time. The generated code depends only on the rule's parsed parts, its defaults and the
``append_unknown`` flag, so the compiled function is kept per such key and bound to each new
rule object, exactly as werkzeug binds the one it has just compiled."""

from __future__ import annotations

from werkzeug.routing.rules import Rule

_original = Rule._compile_builder
_builders: dict[tuple, object] = {}


def _cached_compile_builder(self: Rule, append_unknown: bool = True):
    defaults = self.defaults or {}
    key = (
        self.rule,
        tuple(self._trace),
        tuple(sorted((name, repr(value)) for name, value in defaults.items())),
        tuple(sorted((name, type(conv).__name__) for name, conv in self._converters.items())),
        append_unknown,
    )
    builder = _builders.get(key)
    if builder is None:
        builder = _builders[key] = _original(self, append_unknown)
    return builder


def install() -> None:
    Rule._compile_builder = _cached_compile_builder
