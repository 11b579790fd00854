"""Automatic juror assignment and reassignment."""

import time
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from awards.judging import EntryToAssign, JurorToAssign, assign, reassign

CATEGORIES = ["film", "book", "music"]


def seats(pairs):
    """entry -> set of jurors."""
    result = {}
    for juror, entry in pairs:
        result.setdefault(entry, set()).add(juror)
    return result


def eligible(juror, entry):
    return juror.categories is None or (
        entry.category is not None and entry.category in juror.categories
    )


def test_assign_small_case_by_hand():
    # Three entries, k = 2, jurors A, B, C without limits: six seats over three jurors = 2 each.
    entries = [EntryToAssign(e, "film") for e in ("e1", "e2", "e3")]
    jurors = [JurorToAssign(j) for j in "ABC"]
    plan = assign(entries, jurors, reviews_per_entry=2, seed=0)
    assert len(plan.new) == 6
    assert plan.loads == {"A": 2, "B": 2, "C": 2}
    assert all(len(js) == 2 for js in seats(plan.new).values())
    assert plan.shortfalls == ()


def test_assign_respects_categories_conflicts_and_capacity():
    entries = [
        EntryToAssign("f1", "film"), EntryToAssign("f2", "film"), EntryToAssign("b1", "book"),
    ]  # fmt: skip
    jurors = [
        JurorToAssign("F", frozenset({"film"})),
        JurorToAssign("B", frozenset({"book"})),
        JurorToAssign("Any", None, capacity=1),
    ]
    plan = assign(entries, jurors, reviews_per_entry=2, conflicts=[("F", "f2")], seed=3)
    # Eligible: f2 only Any (F is conflicted) = 1; f1 F, Any = 2; b1 B, Any = 2.
    # f2 has the fewest and is served first: it gets Any's single seat. Then b1 (id before
    # f1) gets B, and f1 gets F.
    assert seats(plan.new) == {"f2": {"Any"}, "b1": {"B"}, "f1": {"F"}}
    assert [(s.entry_id, s.needed, s.assigned, s.missing, s.eligible) for s in plan.shortfalls] == [
        ("b1", 2, 1, 1, 2),
        ("f1", 2, 1, 1, 2),
        ("f2", 2, 1, 1, 1),
    ]
    assert plan.loads == {"F": 1, "B": 1, "Any": 1}


def test_assign_keeps_existing_and_counts_them():
    entries = [EntryToAssign(e) for e in ("e1", "e2")]
    jurors = [JurorToAssign(j) for j in "ABC"]
    plan = assign(entries, jurors, reviews_per_entry=2, existing=[("A", "e1"), ("A", "e2")])
    # A already has two; each entry needs one more, from B or C (least loaded).
    assert Counter(j for j, _ in plan.new) == {"B": 1, "C": 1}
    assert plan.loads == {"A": 2, "B": 1, "C": 1}


def test_assign_existing_beyond_k_is_left_alone():
    plan = assign(
        [EntryToAssign("e")],
        [JurorToAssign(j) for j in "ABC"],
        reviews_per_entry=1,
        existing=[("A", "e"), ("B", "e")],
    )
    assert plan.new == ()
    assert plan.shortfalls == ()


def test_assign_same_seed_same_plan_and_seed_matters():
    entries = [EntryToAssign(i, CATEGORIES[i % 3]) for i in range(30)]
    jurors = [JurorToAssign(j) for j in range(7)]
    first = assign(entries, jurors, reviews_per_entry=2, seed=11)
    again = assign(list(reversed(entries)), list(reversed(jurors)), reviews_per_entry=2, seed=11)
    assert sorted(first.new) == sorted(again.new)
    other = assign(entries, jurors, reviews_per_entry=2, seed=12)
    assert sorted(other.new) != sorted(first.new)


def test_assign_duplicate_ids_raise():
    with pytest.raises(ValueError, match="juror is listed twice"):
        assign([EntryToAssign(1)], [JurorToAssign("A"), JurorToAssign("A")], reviews_per_entry=1)
    with pytest.raises(ValueError, match="entry is listed twice"):
        assign([EntryToAssign(1), EntryToAssign(1)], [JurorToAssign("A")], reviews_per_entry=1)


def test_assign_timing_5000_entries_60_jurors():
    # Printed, not asserted (machines differ); bench/assignment_bench.py records the figure.
    entries = [EntryToAssign(i, CATEGORIES[i % 3]) for i in range(5000)]
    jurors = [
        JurorToAssign(j, None if j % 3 == 0 else frozenset({CATEGORIES[j % 3]}))
        for j in range(60)
    ]
    conflicts = {(j, e) for j in range(60) for e in range(j, 5000, 97)}
    started = time.perf_counter()
    plan = assign(entries, jurors, reviews_per_entry=3, conflicts=conflicts, seed=1)
    elapsed = time.perf_counter() - started
    print(f"\nassign 5,000 entries x 3 reviews over 60 jurors: {elapsed * 1000:.0f} ms")
    assert len(plan.new) == 15_000
    assert plan.shortfalls == ()


# --- properties ---------------------------------------------------------------------------------


@st.composite
def problems(draw, capacities=True, with_conflicts=True, with_existing=True):
    n_entries = draw(st.integers(1, 25))
    entries = [
        EntryToAssign(f"e{i}", draw(st.sampled_from([*CATEGORIES, None]))) for i in range(n_entries)
    ]
    category_sets = st.one_of(
        st.none(), st.frozensets(st.sampled_from(CATEGORIES), min_size=1)
    )
    jurors = [
        JurorToAssign(
            f"j{i}",
            draw(category_sets),
            draw(st.one_of(st.none(), st.integers(0, 8))) if capacities else None,
        )
        for i in range(draw(st.integers(1, 8)))
    ]
    pairs = [(j.id, e.id) for j in jurors for e in entries]
    conflicts = set(draw(st.lists(st.sampled_from(pairs)))) if with_conflicts else set()
    existing = set(draw(st.lists(st.sampled_from(pairs), max_size=6))) if with_existing else set()
    k = draw(st.integers(0, 4))
    seed = draw(st.integers(0, 3))
    return entries, jurors, conflicts, existing, k, seed


@settings(max_examples=150, deadline=None)
@given(problems())
def test_assign_never_breaks_the_rules(problem):
    entries, jurors, conflicts, existing, k, seed = problem
    plan = assign(entries, jurors, reviews_per_entry=k, conflicts=conflicts, existing=existing,
                  seed=seed)  # fmt: skip
    by_entry = {e.id: e for e in entries}
    by_juror = {j.id: j for j in jurors}
    new = list(plan.new)
    assert len(set(new)) == len(new)  # no pair twice
    assert not set(new) & existing  # existing kept as they are, never re-added
    assert not set(new) & conflicts  # conflicts never assigned
    for juror_id, entry_id in new:
        assert eligible(by_juror[juror_id], by_entry[entry_id])
    everything = seats(set(new) | existing)
    already = seats(existing)
    for entry in entries:
        got = everything.get(entry.id, set())
        short = [s for s in plan.shortfalls if s.entry_id == entry.id]
        if len(got) >= k:
            assert not short
        else:
            assert short and short[0].assigned == len(got) and short[0].missing == k - len(got)
        # the planner never fills an entry beyond k
        added = sum(1 for _, e in new if e == entry.id)
        assert added <= max(0, k - len(already.get(entry.id, set())))
    for juror in jurors:
        load = sum(1 for j, _ in set(new) | existing if j == juror.id)
        assert plan.loads[juror.id] == load
        if juror.capacity is not None:
            new_load = sum(1 for j, _ in new if j == juror.id)
            assert new_load == 0 or load <= juror.capacity


@settings(max_examples=150, deadline=None)
@given(problems(capacities=False))
def test_assign_covers_every_entry_when_feasible(problem):
    # Without capacities an entry is short only if too few jurors could take it at all.
    entries, jurors, conflicts, existing, k, seed = problem
    plan = assign(entries, jurors, reviews_per_entry=k, conflicts=conflicts, existing=existing,
                  seed=seed)  # fmt: skip
    already = seats(existing)
    for entry in entries:
        have = already.get(entry.id, set())
        candidates = [
            j for j in jurors
            if eligible(j, entry) and (j.id, entry.id) not in conflicts and j.id not in have
        ]  # fmt: skip
        feasible = len(have) + len(candidates) >= k
        short = {s.entry_id for s in plan.shortfalls}
        assert (entry.id in short) == (not feasible)


@settings(max_examples=150, deadline=None)
@given(problems(capacities=False, with_conflicts=False, with_existing=False))
def test_assign_balances_jurors_with_the_same_eligibility(problem):
    entries, jurors, _conflicts, _existing, k, seed = problem
    plan = assign(entries, jurors, reviews_per_entry=k, seed=seed)
    classes = {}
    for j in jurors:
        classes.setdefault(j.categories, []).append(plan.loads[j.id])
    for loads in classes.values():
        assert max(loads) - min(loads) <= 1


@settings(max_examples=100, deadline=None)
@given(problems(capacities=False), st.data())
def test_reassign_moves_a_leaving_jurors_work(problem, data):
    entries, jurors, conflicts, existing, k, seed = problem
    current = set(assign(entries, jurors, reviews_per_entry=k, conflicts=conflicts,
                         existing=existing, seed=seed).new) | existing  # fmt: skip
    leaving = data.draw(st.sampled_from([j.id for j in jurors]))
    plan = reassign(leaving, entries=entries, jurors=jurors, assignments=current,
                    conflicts=conflicts, seed=seed)  # fmt: skip
    assert set(plan.removed) == {p for p in current if p[0] == leaving}
    assert all(j != leaving for j, _ in plan.new)
    assert not set(plan.new) & conflicts
    after = (current - set(plan.removed)) | set(plan.new)
    assert len(after) == len(current) - len(plan.removed) + len(plan.new)  # no duplicates
    short = {s.entry_id: s.missing for s in plan.shortfalls}
    before_seats, after_seats = seats(current), seats(after)
    for _, entry_id in plan.removed:
        # every moved seat is replaced, unless nobody is left who could take it
        assert len(after_seats.get(entry_id, ())) + short.get(entry_id, 0) == len(
            before_seats[entry_id]
        )
    # entries the leaving juror did not have are untouched
    moved = {e for _, e in plan.removed}
    assert {e for _, e in plan.new} <= moved


def test_reassign_recusal_keeps_the_juror_for_other_entries():
    entries = [EntryToAssign(e) for e in ("e1", "e2", "e3")]
    jurors = [JurorToAssign(j) for j in "ABCD"]
    current = {("A", "e1"), ("B", "e1"), ("A", "e2"), ("C", "e2"), ("B", "e3"), ("C", "e3")}
    plan = reassign("A", entries=entries, jurors=jurors, assignments=current, only_entries={"e1"})
    assert plan.removed == (("A", "e1"),)
    # D has no work: the least loaded, so D replaces A on e1
    assert plan.new == (("D", "e1"),)
    assert plan.loads == {"A": 1, "B": 2, "C": 2, "D": 1}


def test_reassign_unknown_entry_raises():
    with pytest.raises(ValueError, match="not listed"):
        reassign("A", entries=[], jurors=[JurorToAssign("B")], assignments={("A", "x")})
