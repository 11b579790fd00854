"""The load generator: client processes (so the client is not held back by one interpreter's
lock), each running threads that act as people, each thread driving its own share of the
simulated people in turn. A phase runs for a fixed time (or until every person is done) and
returns every request's latency per step, the errors and what the site acknowledged.

The client is closed-loop without think time: each thread sends its next request as soon as
the previous answer arrives, so the server is saturated and the figures are its capacity, and
the latencies include queueing behind the other clients."""

from __future__ import annotations

import multiprocessing
import threading
import time
from dataclasses import dataclass, field

from bench.load.client import Browser
from bench.load.scenarios import SCENARIOS, Recorder, StepFailed


@dataclass
class Group:
    """``threads`` clients doing ``scenario`` for ``actors`` (dicts; anonymous ones empty)."""

    scenario: str
    actors: list[dict]
    threads: int


@dataclass
class PhaseResult:
    wall: float
    latencies: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    errors: dict[tuple[str, str], int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)
    acks: dict[str, list] = field(default_factory=dict)
    ops: dict[str, int] = field(default_factory=dict)
    # Per scenario: the time from the start to its last answer.
    walls: dict[str, float] = field(default_factory=dict)


def _thread(host: str, port: int, world: dict, scenario: str, actors: list[dict], rec: Recorder,
            start_at: float, stop_at: float | None, ends: list[float]) -> None:
    fn = SCENARIOS[scenario]
    browsers = []
    for actor in actors:
        browser = Browser(host, port, headers=actor.get("headers"))
        browser.cookies.update(actor.get("cookies", {}))
        browsers.append(browser)
    alive = [True] * len(actors)
    while time.time() < start_at:
        time.sleep(0.001)
    last = time.time()
    while any(alive) and (stop_at is None or time.time() < stop_at):
        for i, actor in enumerate(actors):
            if not alive[i] or (stop_at is not None and time.time() >= stop_at):
                continue
            try:
                alive[i] = fn(browsers[i], actor, rec, world)
                rec.done(scenario)
            except StepFailed:
                browsers[i].close()
                # A phase that runs until everyone is done must end even if someone cannot.
                alive[i] = stop_at is not None
            last = time.time()
    for actor, browser in zip(actors, browsers, strict=True):
        actor["cookies"] = dict(browser.cookies)
        browser.close()
    ends.append(last)


def _process(host: str, port: int, world: dict, specs: list[tuple[int, str, list[dict]]],
             start_at: float, stop_at: float | None, queue) -> None:
    threads, recs, ends = [], [], {}
    for _group, scenario, actors in specs:
        rec = Recorder()
        recs.append(rec)
        ends.setdefault(scenario, [])
        t = threading.Thread(target=_thread, args=(host, port, world, scenario, actors, rec,
                                                   start_at, stop_at, ends[scenario]))
        threads.append(t)
        t.start()
    for t in threads:
        t.join()
    merged = Recorder()
    for rec in recs:
        for key, values in rec.latencies.items():
            merged.latencies.setdefault(key, []).extend(values)
        for key, n in rec.errors.items():
            merged.errors[key] = merged.errors.get(key, 0) + n
        merged.error_samples.extend(rec.error_samples)
        for kind, values in rec.acks.items():
            merged.acks.setdefault(kind, []).extend(values)
        for scenario, n in rec.ops.items():
            merged.ops[scenario] = merged.ops.get(scenario, 0) + n
    queue.put({"latencies": merged.latencies, "errors": merged.errors,
               "error_samples": merged.error_samples[:20], "acks": merged.acks,
               "ops": merged.ops, "ends": {s: max(v) for s, v in ends.items() if v},
               "actors": [(g, a) for g, _s, actors in specs for a in actors]})


def run_phase(host: str, port: int, groups: list[Group], *, world: dict, processes: int,
              duration: float | None) -> PhaseResult:
    """Run the groups side by side. Actors come back updated (cookies, progress) in place."""
    for g, group in enumerate(groups):
        for i, actor in enumerate(group.actors):
            actor["_slot"] = (g, i)
    # Thread t of a group serves actors t, t+threads, ...; threads are dealt to processes.
    per_process: list[list[tuple[int, str, list[dict]]]] = [[] for _ in range(processes)]
    for g, group in enumerate(groups):
        threads = max(1, min(group.threads, len(group.actors) or group.threads))
        for t in range(threads):
            actors = group.actors[t::threads] if group.actors else [{}]
            per_process[t % processes].append((g, group.scenario, actors))
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    # Spawning interpreters takes a moment; everyone starts at the same instant after it.
    start_at = time.time() + 1.5 + 0.3 * processes
    stop_at = start_at + duration if duration is not None else None
    procs = [ctx.Process(target=_process,
                         args=(host, port, world, specs, start_at, stop_at, queue))
             for specs in per_process if specs]
    for p in procs:
        p.start()
    outputs = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    result = PhaseResult(wall=0.0)
    anonymous = {g for g, group in enumerate(groups) if not group.actors}
    for out in outputs:
        for key, values in out["latencies"].items():
            result.latencies.setdefault(key, []).extend(values)
        for key, n in out["errors"].items():
            result.errors[key] = result.errors.get(key, 0) + n
        result.error_samples.extend(out["error_samples"])
        for kind, values in out["acks"].items():
            result.acks.setdefault(kind, []).extend(values)
        for scenario, n in out["ops"].items():
            result.ops[scenario] = result.ops.get(scenario, 0) + n
        for scenario, end in out["ends"].items():
            result.walls[scenario] = max(result.walls.get(scenario, 0.0), end - start_at)
        for g, actor in out["actors"]:
            if g in anonymous:
                continue
            slot = actor.pop("_slot")
            groups[g].actors[slot[1]].clear()
            groups[g].actors[slot[1]].update(actor)
    result.wall = max(result.walls.values(), default=0.0)
    return result
