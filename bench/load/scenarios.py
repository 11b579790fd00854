"""What each simulated person does, one operation at a time, through the real pages.

An operation is what a person would see as one action: reading a page, logging in, filing a
nomination from the category choice to the confirmation page, scoring an entry (save a draft,
then submit). Each request in it is timed as a step; any unexpected answer is an error that
ends the operation. What the site acknowledged (a submission's reference, a saved review) is
recorded, and compared with the database at the end."""

from __future__ import annotations

import json
import random
import re
from urllib.parse import urlencode

from bench.load.client import Browser, Response, csrf_of, input_value

# The smallest file storage's content check accepts as a PDF, padded to a realistic 20 KB.
PDF = (b"%PDF-1.4\n1 0 obj<<>>endobj\n" + b"% padding\n" * 2000 + b"trailer<<>>\n%%EOF\n")
REFERENCE_RE = re.compile(r'class="reference">[^<]*<strong>([^<]+)</strong>')
EDIT_RE = re.compile(r"^/nominations/(\d+)/edit$")


class StepFailed(Exception):
    pass


class Recorder:
    """One thread's timings, errors and acknowledgements."""

    def __init__(self) -> None:
        self.latencies: dict[tuple[str, str], list[float]] = {}
        self.errors: dict[tuple[str, str], int] = {}
        self.error_samples: list[str] = []
        self.acks: dict[str, list] = {}
        self.ops: dict[str, int] = {}

    def step(self, scenario: str, step: str, call, expect: int | tuple[int, ...],
             location: re.Pattern | str | None = None) -> Response:
        """Run ``call`` (one request); fail the operation unless the status (and the
        redirect target) is the expected one."""
        try:
            response = call()
        except OSError as exc:
            self._error(scenario, step, f"{type(exc).__name__}: {exc}")
            raise StepFailed from exc
        return self.record(scenario, step, response, expect, location)

    def record(self, scenario: str, step: str, response: Response,
               expect: int | tuple[int, ...], location: re.Pattern | str | None = None
               ) -> Response:
        """Time a response already received; fail the operation unless it is the expected
        one."""
        expected = (expect,) if isinstance(expect, int) else expect
        self.latencies.setdefault((scenario, step), []).append(response.elapsed)
        good = response.status in expected
        if good and location is not None:
            target = response.path()
            good = (location.match(target) is not None if isinstance(location, re.Pattern)
                    else target == location)
        if not good:
            snippet = re.sub(r"\s+", " ", response.body[:300])
            self._error(scenario, step,
                        f"HTTP {response.status} -> {response.location or '-'}: {snippet}")
            raise StepFailed
        return response

    def _error(self, scenario: str, step: str, message: str) -> None:
        key = (scenario, step)
        self.errors[key] = self.errors.get(key, 0) + 1
        if len(self.error_samples) < 20:
            self.error_samples.append(f"{scenario}/{step}: {message}")

    def ack(self, kind: str, value) -> None:
        self.acks.setdefault(kind, []).append(value)

    def done(self, scenario: str) -> None:
        self.ops[scenario] = self.ops.get(scenario, 0) + 1


def _csrf(response: Response) -> str:
    token = csrf_of(response.body)
    if token is None:
        raise StepFailed("no CSRF token on the page")
    return token


# ---- the ceiling and the health check -----------------------------------------------------------


def bare(browser: Browser, actor: dict, rec: Recorder, world: dict) -> bool:
    rec.step("bare", "GET /__bare", lambda: browser.get("/__bare"), 200)
    return True


def healthz(browser: Browser, actor: dict, rec: Recorder, world: dict) -> bool:
    rec.step("healthz", "GET /healthz", lambda: browser.get("/healthz"), 200)
    return True


# ---- anonymous visitors -------------------------------------------------------------------------


def read(browser: Browser, actor: dict, rec: Recorder, world: dict) -> bool:
    paths = world["read_paths"]
    position = actor.get("position", 0)
    path, label = paths[position % len(paths)]
    actor["position"] = position + 1
    rec.step("read", f"GET {label}", lambda: browser.get(path), 200)
    return True


# ---- logging in (once per simulated person; argon2 by design) ----------------------------------


def login(browser: Browser, actor: dict, rec: Recorder, world: dict) -> bool:
    page = rec.step("login", "GET /account/login", lambda: browser.get("/account/login"), 200)
    data = {"email": actor["email"], "password": world["password"], "csrf_token": _csrf(page)}
    rec.step("login", "POST /account/login", lambda: browser.post("/account/login", data),
             (302, 303))
    actor["logged_in"] = True
    return False  # one login per person: this actor is done for the phase


# ---- applicants ---------------------------------------------------------------------------------


def submit(browser: Browser, actor: dict, rec: Recorder, world: dict) -> bool:
    slug = world["open_slug"]
    rnd = random.Random()
    category = rnd.choice(world["category_codes"])
    page = rec.step("submit", "GET start form",
                    lambda: browser.get(f"/nominations/start/{slug}?category={category}"), 200)
    started = rec.step(
        "submit", "POST start",
        lambda: browser.post(f"/nominations/start/{slug}", {
            "category": category, "nominator_kind": "self", "csrf_token": _csrf(page)}),
        303, EDIT_RE)
    nomination_id = int(EDIT_RE.match(started.path()).group(1))
    form = rec.step("submit", "GET nomination form",
                    lambda: browser.get(f"/nominations/{nomination_id}/edit"), 200)
    fields = [
        ("csrf_token", _csrf(form)),
        ("nominee_name", input_value(form.body, "nominee_name") or actor["email"]),
        ("nominee_phone", "+7 701 555 44 33"),
        ("q_title", f"Clean rivers {nomination_id}"),
        ("q_activity", "We cleaned 12 rivers with 300 volunteers.\n" * 8),
        ("q_region", rnd.choice(("almaty", "astana", "shymkent", "abroad"))),
        ("q_truthful", "y"),
        ("personal_data_consent", "y"),
    ]
    files = [("q_documents", "report.pdf", "application/pdf", PDF)]
    rec.step("submit", "POST submit (with PDF)",
             lambda: browser.post_multipart(f"/nominations/{nomination_id}/submit", fields,
                                            files),
             303, f"/nominations/{nomination_id}/submitted")
    rec.ack("nomination", nomination_id)
    done = rec.step("submit", "GET confirmation",
                    lambda: browser.get(f"/nominations/{nomination_id}/submitted"), 200)
    match = REFERENCE_RE.search(done.body)
    if match is None:
        rec._error("submit", "GET confirmation", "no reference on the confirmation page")
        raise StepFailed
    rec.ack("reference", (nomination_id, match.group(1).strip()))
    return True


# ---- jurors -------------------------------------------------------------------------------------


def _sheet(world: dict, rnd: random.Random) -> dict[str, str]:
    sheet = {}
    for criterion_id, (low, high, step) in world["criteria"].items():
        steps = round((high - low) / step)
        value = low + step * rnd.randint(0, steps)
        sheet[criterion_id] = str(int(value)) if float(value).is_integer() else str(value)
    return sheet


def score(browser: Browser, actor: dict, rec: Recorder, world: dict) -> bool:
    todo = actor["assignments"]
    position = actor.get("position", 0)
    if position >= len(todo):
        return False
    actor["position"] = position + 1
    assignment_id = todo[position]
    url = f"/jury/assignments/{assignment_id}"
    sheet = _sheet(world, random.Random())

    def form(page: Response, action: str) -> dict[str, str]:
        data = {f"score_{cid}": value for cid, value in sheet.items()}
        data.update({"csrf_token": _csrf(page), "action": action,
                     "version": input_value(page.body, "version") or "0",
                     "overall_comment": "Solid work with measurable results."})
        return data

    page = rec.step("score", "GET score sheet", lambda: browser.get(url), 200)
    rec.step("score", "POST save draft", lambda: browser.post(url, form(page, "draft")), 303, url)
    rec.ack("draft", assignment_id)
    page = rec.step("score", "GET score sheet (after draft)", lambda: browser.get(url), 200)
    rec.step("score", "POST submit", lambda: browser.post(url, form(page, "submit")), 303,
             "/jury/")
    rec.ack("review", (assignment_id, {int(k): float(v) for k, v in sheet.items()}))
    rec.step("score", "GET dashboard", lambda: browser.get("/jury/"), 200)
    return True


# ---- voters -------------------------------------------------------------------------------------

JSON = {"Accept": "application/json"}


def _vote_outcome(rec: Recorder, step: str, response: Response) -> str:
    rec.record("vote", step, response, 200)
    try:
        answer = json.loads(response.body)
    except ValueError:
        answer = {}
    if not answer.get("ok") or answer.get("outcome") not in ("cast", "unchanged", "changed"):
        rec._error("vote", step, f"unexpected answer {response.body[:200]}")
        raise StepFailed
    return answer["outcome"]


def vote(browser: Browser, actor: dict, rec: Recorder, world: dict) -> bool:
    """A verified voter opens a candidate's page (which gives the form its CSRF token), then
    votes in each of their categories. Some votes are sent twice: a double click (both
    requests in flight at once, on two connections) or a retry after the answer."""
    slug = world["vote_slug"]
    page = rec.step("vote", "GET candidate page",
                    lambda: browser.get(f"/public/{slug}/{actor['votes'][0][0]}"), 200)
    body = urlencode({"csrf_token": _csrf(page)}).encode()
    form = "application/x-www-form-urlencoded"
    for reference, category_id, repeat in actor["votes"]:
        path = f"/public/{slug}/{reference}/vote"
        key = (actor["voter_id"], category_id)
        if repeat == "double":
            twin = Browser(browser.host, browser.port, headers=browser.headers)
            twin.cookies = dict(browser.cookies)
            try:
                browser.send("POST", path, body, form, JSON)
                twin.send("POST", path, body, form, JSON)
                first, second = browser.receive(), twin.receive()
            except OSError as exc:
                rec._error("vote", "POST vote (double click)", f"{type(exc).__name__}: {exc}")
                raise StepFailed from exc
            finally:
                twin.close()
            rec.ack("vote", (*key, _vote_outcome(rec, "POST vote (double click)", first)))
            rec.ack("vote", (*key, _vote_outcome(rec, "POST vote (double click)", second)))
            continue
        steps = ["POST vote", "POST vote (retry)"] if repeat == "retry" else ["POST vote"]
        for step in steps:
            try:
                response = browser.request("POST", path, body, form, JSON)
            except OSError as exc:
                rec._error("vote", step, f"{type(exc).__name__}: {exc}")
                raise StepFailed from exc
            rec.ack("vote", (*key, _vote_outcome(rec, step, response)))
    return False


SCENARIOS = {"bare": bare, "healthz": healthz, "read": read, "login": login, "submit": submit,
             "score": score, "vote": vote}
