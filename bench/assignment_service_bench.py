"""Automatic assignment through the service and the pages on a real database: 5,000 eligible
entries x 3 reviews over 60 jurors (three categories, a third of the jurors open to all,
scattered conflicts). Prints the figures; asserts nothing; not part of the test suite.

    .venv/bin/python bench/assignment_service_bench.py                      # SQLite (temp file)
    .venv/bin/python bench/assignment_service_bench.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres  # throw-away DB

Measured: the preview (``plan_assignment``), the save (``save_assignment``: plan again, compare
digests, one bulk INSERT, one audit record, commit), and the same two steps through the
administrator's pages (GET preview, POST save), each with its number of SQL statements."""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select

from awards.auth.models import User
from awards.auth.services import hash_password
from awards.calls.models import Call, Category, Programme
from awards.db import get_db, utcnow
from awards.enums import (
    CallStatus,
    ConflictSource,
    JurorStatus,
    NominationStatus,
    NominatorKind,
    RoundStatus,
)
from awards.jury import setup
from awards.jury.models import (
    Assignment,
    Conflict,
    JuryMember,
    Panel,
    Round,
    RoundEntry,
    jury_member_categories,
)
from awards.nominations.models import Nomination
from bench.common import StatementCounter as Counter
from bench.common import bench_app, engine_of, throwaway_database

ENTRIES, JURORS, K = 5000, 60, 3
PASSWORD = "bench-password-123"


def build(session) -> int:
    now = utcnow()
    programme = Programme(slug="bench", name_en="Bench")
    call = Call(programme=programme, slug="bench-2026", reference_prefix="BEN", year=2026,
                title_en="Bench", opens_at=now.replace(year=now.year - 1), closes_at=now,
                status=CallStatus.JUDGING)
    call.categories = [Category(code=c, name_en=c, position=i) for i, c in
                       enumerate(("film", "book", "music"))]
    session.add(call)
    session.flush()
    cats = [c.id for c in call.categories]
    admin = User(email="admin@bench.local", password_hash=hash_password(PASSWORD),
                 full_name="Admin", is_admin=True, email_verified_at=now)
    applicant = User(email="applicant@bench.local", password_hash="x", email_verified_at=now)
    session.add_all([admin, applicant])
    session.flush()
    session.execute(insert(Nomination), [
        {"call_id": call.id, "category_id": cats[i % 3], "applicant_id": applicant.id,
         "nominator_kind": NominatorKind.SELF, "status": NominationStatus.ELIGIBLE,
         "reference": f"BEN-2026-{i + 1:05d}", "nominee_name": f"Nominee {i}",
         "submitted_at": now, "version_id": 1} for i in range(ENTRIES)])
    nomination_ids = list(session.scalars(select(Nomination.id).order_by(Nomination.id)))
    session.execute(insert(User), [
        {"email": f"juror{j}@bench.local", "password_hash": "x", "full_name": f"Juror {j}",
         "email_verified_at": now} for j in range(JURORS)])
    juror_ids = list(session.scalars(select(User.id).where(User.email.like("juror%"))
                                     .order_by(User.id)))
    panel = Panel(call_id=call.id, name="Bench panel")
    session.add(panel)
    session.flush()
    session.execute(insert(JuryMember), [
        {"panel_id": panel.id, "user_id": uid, "email": f"juror{j}@bench.local",
         "status": JurorStatus.ACTIVE, "accepted_at": now} for j, uid in enumerate(juror_ids)])
    members = list(session.scalars(select(JuryMember.id).where(JuryMember.panel_id == panel.id)
                                   .order_by(JuryMember.id)))
    session.execute(insert(jury_member_categories), [
        {"jury_member_id": m, "category_id": cats[j % 3]}
        for j, m in enumerate(members) if j % 3 != 0])
    session.execute(insert(Conflict), [
        {"user_id": juror_ids[j], "nomination_id": nomination_ids[e],
         "source": ConflictSource.DECLARED, "reason": ""}
        for j in range(JURORS) for e in range(j, ENTRIES, 97)])
    rnd = Round(call_id=call.id, position=1, name_en="Bench round", panel_id=panel.id,
                status=RoundStatus.OPEN, reviews_per_entry=K)
    session.add(rnd)
    session.flush()
    session.execute(insert(RoundEntry), [{"round_id": rnd.id, "nomination_id": n}
                                         for n in nomination_ids])
    return rnd.id


def report(label: str, c: Counter) -> None:
    print(f"  {label:<46} {c.elapsed * 1000:9.1f} ms  {c.n:4d} statements")


def run(url: str) -> None:
    app = bench_app(url)
    engine = engine_of(app)
    print(f"database: {engine.dialect.name}; {ENTRIES} entries x {K} reviews, {JURORS} jurors")
    with app.app_context():
        session = get_db()
        started = time.perf_counter()
        round_id = build(session)
        session.commit()
        print(f"  {'(arranging the data)':<46} {(time.perf_counter() - started) * 1000:9.1f} ms")

    with app.app_context():
        session = get_db()
        rnd = session.get(Round, round_id)
        with Counter(engine) as c:
            auto = setup.plan_assignment(session=session, round=rnd, seed=rnd.id)
        report("service: preview (plan_assignment)", c)
        with Counter(engine) as c:
            setup.save_assignment(session=session, actor=None, round=rnd, seed=auto.seed,
                                  digest=auto.digest)
            session.commit()
        report(f"service: save {auto.new_count} assignments + commit", c)
        print(f"    shortfalls: {len(auto.plan.shortfalls)}; loads "
              f"{min(auto.plan.loads.values())}..{max(auto.plan.loads.values())}")
        # Start again for the pages.
        session.execute(Assignment.__table__.delete().where(Assignment.round_id == rnd.id))
        session.commit()

    client = app.test_client()
    login = client.get("/account/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
    client.post("/account/login", data={"email": "admin@bench.local", "password": PASSWORD,
                                        "csrf_token": csrf})
    with Counter(engine) as c:
        page = client.get(f"/admin/jury/rounds/{round_id}/auto-assign")
    report(f"page: GET preview ({page.status_code})", c)
    body = page.get_data(as_text=True)
    form = {name: re.search(rf'name="{name}"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="{name}"',
                            body).group(1) or "" for name in ("digest",)}
    form["seed"] = re.search(r'name="seed" value="(\d+)"', body).group(1)
    form["csrf_token"] = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                                   body).group(1)
    with Counter(engine) as c:
        saved = client.post(f"/admin/jury/rounds/{round_id}/auto-assign", data=form)
    report(f"page: POST save ({saved.status_code})", c)
    with app.app_context():
        count = get_db().scalar(select(func.count(Assignment.id))
                                .where(Assignment.round_id == round_id))
        print(f"    assignments stored: {count}")
    with Counter(engine) as c:
        page = client.get(f"/admin/jury/rounds/{round_id}/progress")
    report(f"page: GET progress ({page.status_code})", c)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="",
                        help="a PostgreSQL server URL (a throw-away database is created on it); "
                             "default: a temporary SQLite file")
    args = parser.parse_args()
    with throwaway_database(args.database_url) as url:
        run(url)


if __name__ == "__main__":
    main()
