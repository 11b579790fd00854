"""Small named predicates composed with ``&``, ``|`` and ``~``, each able to say why it said no.

The ``rules`` package composes predicates the same way but answers only True or False; a
refusal here has to tell the person what blocks them (in their language) and how the page or
the API should answer (404 when the thing must not be known to exist, 403 when it may be known
but not touched, 409 when the phase of the call forbids it), so the composition keeps the
first failing predicate's reason."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Decision:
    """The policy's answer: ``ok``, or why not (a lazily translated string) and the HTTP status
    a refusal maps to."""

    ok: bool
    reason: Any = ""
    status: int = 403
    rule: str = ""

    def __bool__(self) -> bool:
        return self.ok


ALLOW = Decision(True)


class Forbidden(Exception):
    """Raised by ``policy.require``: the services let it through, the pages and the API turn
    it into their usual 404/403/409 answer with ``reason`` as the message."""

    def __init__(self, decision: Decision):
        super().__init__(str(decision.reason))
        self.decision = decision
        self.reason = decision.reason
        self.message = decision.reason
        self.status = decision.status


class Rule:
    """A predicate over a context object, with the reason and status used when it fails."""

    def __init__(self, name: str, test: Callable[[Any], bool], reason: Any = "",
                 status: int = 403):
        self.name = name
        self._test = test
        self.reason = reason
        self.status = status

    def check(self, ctx) -> Decision:
        if self._test(ctx):
            return ALLOW
        return Decision(False, self.reason, self.status, self.name)

    def __call__(self, ctx) -> bool:
        return self.check(ctx).ok

    def __and__(self, other: Rule) -> Rule:
        return _All(self, other)

    def __or__(self, other: Rule) -> Rule:
        return _Any(self, other)

    def __invert__(self) -> Rule:
        return _Not(self)

    def __repr__(self) -> str:
        return self.name


class _All(Rule):
    def __init__(self, *rules: Rule):
        flat: list[Rule] = []
        for rule in rules:
            flat.extend(rule.rules if isinstance(rule, _All) else [rule])
        self.rules = flat
        super().__init__(" & ".join(r.name for r in flat), lambda ctx: True)

    def check(self, ctx) -> Decision:
        # The first refusal wins, so order a rule's parts from "may not know it exists" (404)
        # to "may know, may not touch" (403) to "not in this phase" (409).
        for rule in self.rules:
            decision = rule.check(ctx)
            if not decision.ok:
                return decision
        return ALLOW


class _Any(Rule):
    def __init__(self, *rules: Rule):
        flat: list[Rule] = []
        for rule in rules:
            flat.extend(rule.rules if isinstance(rule, _Any) else [rule])
        self.rules = flat
        super().__init__("(" + " | ".join(r.name for r in flat) + ")", lambda ctx: True)

    def check(self, ctx) -> Decision:
        # Alternatives are written from the broadest ("is an administrator") to the most
        # particular ("is the assigned juror, and ..."): when all refuse, the last one's reason
        # is the one that tells the person what they are missing.
        last: Decision | None = None
        for rule in self.rules:
            last = rule.check(ctx)
            if last.ok:
                return ALLOW
        assert last is not None
        return last


class _Not(Rule):
    def __init__(self, rule: Rule, reason: Any = "", status: int = 403):
        self.inner = rule
        super().__init__(f"~{rule.name}", lambda ctx: not rule.check(ctx).ok, reason, status)


def negate(rule: Rule, reason: Any, status: int = 403) -> Rule:
    """``~rule`` with its own reason: "not in conflict" says something else than "in
    conflict"."""
    return _Not(rule, reason, status)
