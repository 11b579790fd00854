"""Automatic juror assignment: each entry gets k distinct, eligible, unconflicted jurors, with the
work spread evenly.

Rules
    * A juror is **eligible** for an entry when the entry's category is among the juror's
      categories (``None`` = every category; an entry without a category can only go to such
      jurors), the pair is not in ``conflicts``, the juror does not already have the entry and
      is below their ``capacity`` (total assignments, existing ones included; ``None`` =
      unlimited).
    * **Existing** assignments are kept as they are (even if since conflicted — removing them
      is the administrator's decision) and count towards both the entry's k and the juror's
      load.
    * Entries are filled **fewest eligible jurors first** (ties by entry id), so entries that
      only a few jurors can take are served before those jurors fill up with work anyone
      could do.
    * Each seat goes to the **least-loaded** eligible juror; equal loads are decided by a fixed
      priority order, a shuffle of the jurors (sorted by id) with ``random.Random(seed)``:
      deterministic for a seed, yet not always favouring the same low ids.
    * Consequence: among jurors with the same eligibility (categories, no conflicts, no
      capacity limit, no existing work), loads differ by at most one.
    * An entry that cannot get k jurors gets as many as possible and appears in
      ``shortfalls`` with the number missing.

Speed: jurors are kept in one heap per eligibility class (distinct category sets), ordered by
(load, priority), with lazy deletion, so a seat costs O(classes + log jurors) rather than a scan
of all jurors. 5,000 entries x 3 seats over 60 jurors take well under a second (see
``bench/assignment_bench.py``).

``reassign`` moves a juror's assignments (all, when they leave; some, when they recuse) to
others by the same rules; each moved assignment is replaced by one new one.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from ._common import Id, id_key

Pair = tuple[Id, Id]  # (juror_id, entry_id)


@dataclass(frozen=True)
class EntryToAssign:
    id: Id
    category: Id | None = None


@dataclass(frozen=True)
class JurorToAssign:
    id: Id
    categories: frozenset[Id] | None = None  # None: every category
    capacity: int | None = None  # most assignments in total; None: unlimited


@dataclass(frozen=True)
class Shortfall:
    entry_id: Id
    needed: int  # seats the entry should have
    assigned: int  # seats it has (existing + new)
    eligible: int  # jurors who could have taken it, ignoring capacity

    @property
    def missing(self) -> int:
        return self.needed - self.assigned


@dataclass(frozen=True)
class AssignmentPlan:
    new: tuple[Pair, ...]  # (juror_id, entry_id), in the order they were made
    loads: dict[Id, int]  # every juror's total after the plan, existing work included
    shortfalls: tuple[Shortfall, ...]  # ordered by entry id


@dataclass(frozen=True)
class ReassignmentPlan:
    removed: tuple[Pair, ...]  # the juror's assignments that are to be ended
    new: tuple[Pair, ...]
    loads: dict[Id, int]
    shortfalls: tuple[Shortfall, ...]


def _eligible_by_category(juror: JurorToAssign, category: Id | None) -> bool:
    return juror.categories is None or (category is not None and category in juror.categories)


def _plan(
    entries: list[EntryToAssign],
    jurors: list[JurorToAssign],
    targets: Mapping[Id, int],
    conflicts: set[Pair],
    existing: set[Pair],
    seed: int,
) -> AssignmentPlan:
    """Fill every entry in ``targets`` up to its target; the engine behind both functions."""
    juror_ids = [j.id for j in jurors]
    if len(set(juror_ids)) != len(juror_ids):
        raise ValueError("a juror is listed twice")
    entry_ids = [e.id for e in entries]
    if len(set(entry_ids)) != len(entry_ids):
        raise ValueError("an entry is listed twice")
    by_id = {j.id: j for j in jurors}

    # Priority among equal loads: a seeded shuffle of the jurors in id order, so the outcome
    # does not depend on the order the caller listed them in.
    order = sorted(juror_ids, key=id_key)
    random.Random(seed).shuffle(order)
    priority = {j: i for i, j in enumerate(order)}

    loads = dict.fromkeys(juror_ids, 0)
    on_entry: dict[Id, set[Id]] = {e: set() for e in entry_ids}
    for juror_id, entry_id in existing:
        if juror_id in loads:
            loads[juror_id] += 1
        on_entry.setdefault(entry_id, set()).add(juror_id)

    def has_room(juror_id: Id) -> bool:
        capacity = by_id[juror_id].capacity
        return capacity is None or loads[juror_id] < capacity

    # Eligibility classes: jurors with the same category set share a heap.
    classes: dict[frozenset[Id] | None, list[tuple[int, int, Id]]] = {}
    for j in jurors:
        heap = classes.setdefault(j.categories, [])
        if has_room(j.id):
            heap.append((loads[j.id], priority[j.id], j.id))
    for heap in classes.values():
        heapq.heapify(heap)
    class_list = list(classes.items())
    relevant_cache: dict[Id | None, list[list[tuple[int, int, Id]]]] = {}

    def relevant(category: Id | None) -> list[list[tuple[int, int, Id]]]:
        if category not in relevant_cache:
            relevant_cache[category] = [
                heap
                for cats, heap in class_list
                if cats is None or (category is not None and category in cats)
            ]
        return relevant_cache[category]

    # How many jurors could take each entry (ignoring capacity): fewest first.
    per_category: dict[Id | None, int] = {}
    eligible: dict[Id, int] = {}
    for entry in entries:
        if entry.id not in targets:
            continue
        if entry.category not in per_category:
            per_category[entry.category] = sum(
                1 for j in jurors if _eligible_by_category(j, entry.category)
            )
        eligible[entry.id] = per_category[entry.category]
    entry_category = {e.id: e.category for e in entries}
    for juror_id, entry_id in conflicts:
        if (
            entry_id in eligible
            and juror_id in by_id
            and juror_id not in on_entry[entry_id]
            and _eligible_by_category(by_id[juror_id], entry_category[entry_id])
        ):
            eligible[entry_id] -= 1
    for entry_id in eligible:
        for juror_id in on_entry[entry_id]:
            if (
                juror_id in by_id
                and (juror_id, entry_id) not in conflicts
                and _eligible_by_category(by_id[juror_id], entry_category[entry_id])
            ):
                eligible[entry_id] -= 1

    queue = sorted(eligible, key=lambda e: (eligible[e], id_key(e)))
    new: list[Pair] = []
    shortfalls: list[Shortfall] = []
    for entry_id in queue:
        assigned = on_entry[entry_id]
        wanted = targets[entry_id] - len(assigned)
        heaps = relevant(entry_category[entry_id])
        set_aside: list[tuple[list[tuple[int, int, Id]], tuple[int, int, Id]]] = []
        while wanted > 0:
            best: tuple[int, int, Id] | None = None
            best_heap: list[tuple[int, int, Id]] | None = None
            for heap in heaps:
                while heap:
                    load, _, juror_id = top = heap[0]
                    if load != loads[juror_id] or not has_room(juror_id):
                        heapq.heappop(heap)  # stale (a newer item exists) or full for good
                    elif juror_id in assigned or (juror_id, entry_id) in conflicts:
                        set_aside.append((heap, heapq.heappop(heap)))  # fine for other entries
                    else:
                        if best is None or top < best:
                            best, best_heap = top, heap
                        break
            if best is None or best_heap is None:
                break
            heapq.heappop(best_heap)
            juror_id = best[2]
            loads[juror_id] += 1
            assigned.add(juror_id)
            new.append((juror_id, entry_id))
            if has_room(juror_id):
                heapq.heappush(best_heap, (loads[juror_id], best[1], juror_id))
            wanted -= 1
        for heap, item in set_aside:
            heapq.heappush(heap, item)  # items of jurors chosen just now are stale: dropped later
        if wanted > 0:
            shortfalls.append(
                Shortfall(
                    entry_id=entry_id,
                    needed=targets[entry_id],
                    assigned=len(assigned),
                    eligible=eligible[entry_id],
                )
            )
    shortfalls.sort(key=lambda s: id_key(s.entry_id))
    return AssignmentPlan(new=tuple(new), loads=loads, shortfalls=tuple(shortfalls))


def assign(
    entries: Iterable[EntryToAssign],
    jurors: Iterable[JurorToAssign],
    *,
    reviews_per_entry: int,
    conflicts: Iterable[Pair] = (),
    existing: Iterable[Pair] = (),
    seed: int = 0,
) -> AssignmentPlan:
    """New assignments so every entry has ``reviews_per_entry`` jurors; see the module
    docstring. ``conflicts`` and ``existing`` are (juror_id, entry_id) pairs."""
    if reviews_per_entry < 0:
        raise ValueError("reviews_per_entry must not be negative")
    entry_list = list(entries)
    return _plan(
        entry_list,
        list(jurors),
        {e.id: reviews_per_entry for e in entry_list},
        set(conflicts),
        set(existing),
        seed,
    )


def reassign(
    juror_id: Id,
    *,
    entries: Iterable[EntryToAssign],
    jurors: Iterable[JurorToAssign],
    assignments: Iterable[Pair],
    conflicts: Iterable[Pair] = (),
    only_entries: Collection[Id] | None = None,
    seed: int = 0,
) -> ReassignmentPlan:
    """Move ``juror_id``'s active assignments to other jurors.

    ``assignments`` are the round's active (juror_id, entry_id) pairs — pass only those that
    may still move (typically: no submitted review yet). With ``only_entries`` the juror
    recuses from those entries and stays available for others; without it the juror leaves
    and takes no new work. Each moved assignment is replaced by one new one under the rules of
    ``assign`` (loads counted over all of ``assignments``)."""
    current = set(assignments)
    removed = sorted(
        (
            pair
            for pair in current
            if pair[0] == juror_id and (only_entries is None or pair[1] in only_entries)
        ),
        key=lambda pair: id_key(pair[1]),
    )
    kept = current - set(removed)
    moved_entries = {entry_id for _, entry_id in removed}
    # The juror must not come back to an entry they were moved off.
    blocked = set(conflicts) | set(removed)
    pool = [j for j in jurors if only_entries is not None or j.id != juror_id]
    entry_list = list(entries)
    unknown = moved_entries - {e.id for e in entry_list}
    if unknown:
        listed = sorted(unknown, key=id_key)
        raise ValueError(f"assignments to entries that are not listed: {listed!r}")
    seats = Counter(entry_id for _, entry_id in current)
    targets = {entry_id: seats[entry_id] for entry_id in moved_entries}
    plan = _plan(entry_list, pool, targets, blocked, kept, seed)
    return ReassignmentPlan(
        removed=tuple(removed), new=plan.new, loads=plan.loads, shortfalls=plan.shortfalls
    )
