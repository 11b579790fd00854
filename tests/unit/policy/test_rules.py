"""The rule combinator: composition, and which reason a refusal carries."""

from __future__ import annotations

import pytest

from awards.policy.rules import Forbidden, Rule, negate

yes = Rule("yes", lambda ctx: True, "never shown", 403)
hidden = Rule("hidden", lambda ctx: False, "not found", 404)
locked = Rule("locked", lambda ctx: False, "locked in this phase", 409)
is_even = Rule("is_even", lambda ctx: ctx % 2 == 0, "odd", 403)


def test_and_refuses_with_the_first_failing_rule():
    decision = (yes & hidden & locked).check(None)
    assert (decision.ok, decision.reason, decision.status, decision.rule) == (
        False, "not found", 404, "hidden")


def test_and_of_passing_rules_allows():
    assert (yes & is_even).check(4).ok is True
    assert bool((yes & is_even).check(3)) is False


def test_or_allows_when_any_part_allows_else_gives_the_last_reason():
    assert (hidden | is_even).check(2).ok is True
    assert (hidden | locked).check(2).reason == "locked in this phase"


def test_negation_carries_its_own_reason():
    odd = negate(is_even, "even numbers may not", 409)
    assert odd.check(3).ok is True
    assert (odd.check(2).reason, odd.check(2).status) == ("even numbers may not", 409)


def test_composed_rule_name_reads_like_the_rule():
    assert (yes & ~hidden & (locked | is_even)).name == "yes & ~hidden & (locked | is_even)"


def test_forbidden_carries_status_and_message():
    with pytest.raises(Forbidden) as caught:
        decision = (yes & locked).check(None)
        raise Forbidden(decision)
    assert (caught.value.status, str(caught.value.message)) == (409, "locked in this phase")
