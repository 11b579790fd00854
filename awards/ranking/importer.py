"""Scores from paper ballots: a CSV file with the columns ``entry,juror,criterion,score`` (entry =
nomination reference, juror = e-mail, criterion = rubric key), one line per criterion score.

The file is checked as a whole first, every problem reported with its line number; nothing is
written unless the whole file is valid. Then, per (entry, juror) pair, the juror's assignment is
created or made active again and their review is written as submitted and ``imported``, with
its scores and total. One audit record describes the batch.

Accepted: UTF-8 with or without BOM; comma or semicolon delimiter (Excel in a Russian or
Kazakh locale writes semicolons, and decimal commas, which are read too); extra columns are
ignored (so a scores export can be imported back); blank lines are skipped."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from awards import audit, policy
from awards.auth.models import User
from awards.boundary import has_control
from awards.db import utcnow
from awards.enums import AssignmentStatus, JurorStatus, ReviewStatus
from awards.judging import ScoreError, check_score, review_total
from awards.jury.models import (
    Assignment,
    Criterion,
    JuryMember,
    Review,
    Round,
    RoundEntry,
    Score,
)
from awards.nominations.models import Nomination
from awards.policy.conflicts import REASON_LABELS, Person, conflict_kinds, conflicted_ids
from awards.ranking.services import NOT_RANKED, judging_criteria

COLUMNS = ("entry", "juror", "criterion", "score")
MAX_LINES = 200_000
MAX_ERRORS = 200  # a file with thousands of errors is wrong as a whole; show the first ones

SCORE_MESSAGES = {
    ScoreError.MISSING: _l("the score is missing"),
    ScoreError.NOT_A_NUMBER: _l("the score is not a number"),
    ScoreError.OUT_OF_RANGE: _l("the score is outside the criterion's range %(low)s–%(high)s"),
    ScoreError.OFF_STEP: _l("the score is not a multiple of the criterion's step %(step)s "
                            "(from %(low)s)"),
}


@dataclass(frozen=True)
class LineError:
    line: int  # 1 = the header; 0 = the file as a whole
    message: str


@dataclass
class ImportResult:
    ok: bool
    errors: list[LineError] = field(default_factory=list)
    lines: int = 0
    pairs: int = 0
    reviews_created: int = 0
    reviews_updated: int = 0
    assignments_created: int = 0
    assignments_reactivated: int = 0
    scores: int = 0
    truncated: bool = False
    status: int = 400  # the HTTP answer when not ok: 409 when the call's phase forbids it

    def summary(self) -> dict[str, Any]:
        return {"lines": self.lines, "reviews": self.pairs,
                "reviews_created": self.reviews_created, "reviews_updated": self.reviews_updated,
                "assignments_created": self.assignments_created,
                "assignments_reactivated": self.assignments_reactivated,
                "scores": self.scores}


@dataclass(frozen=True)
class _Line:
    number: int
    entry: str
    juror: str
    criterion: str
    score: float


def _number(text: str) -> float | None:
    text = text.strip().replace("\u00a0", "").replace(" ", "")
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and value not in (float("inf"), float("-inf")) else None


def _fmt(value: float) -> str:
    return f"{value:g}"


def parse(content: bytes) -> tuple[list[_Line], list[LineError], int]:
    """Decode and split the file; returns the lines, the errors found so far and the number of
    data lines."""
    errors: list[LineError] = []
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [LineError(0, str(_l("The file is not in UTF-8. Save it as “CSV UTF-8” and "
                                          "try again.")))], 0
    if not text.strip():
        return [], [LineError(0, str(_l("The file is empty.")))], 0
    if has_control(text):
        number = next(n for n, line in enumerate(text.split("\n"), 1) if has_control(line))
        return [], [LineError(number, str(_l(
            "The line holds an invisible control character (such as NUL) that cannot be "
            "stored. Remove it and try again.")))], 0
    first = text.splitlines()[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except csv.Error:
        return [], [LineError(1, str(_l("The header line cannot be read.")))], 0
    missing = [c for c in COLUMNS if c not in header]
    if missing or len(set(header)) != len(header):
        return [], [LineError(1, str(_l(
            "The first line must name the columns %(columns)s (missing: %(missing)s).",
            columns=", ".join(COLUMNS), missing=", ".join(missing) or "—")))], 0
    index = {c: header.index(c) for c in COLUMNS}
    width = max(index.values()) + 1
    lines: list[_Line] = []
    count = 0
    try:
        for row in reader:
            number = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            count += 1
            if count > MAX_LINES:
                errors.append(LineError(number, str(_l("The file has more than %(n)d lines.",
                                                       n=MAX_LINES))))
                break
            if len(row) < width:
                errors.append(LineError(number, str(_l(
                    "expected %(n)d columns, found %(found)d", n=len(header), found=len(row)))))
                continue
            entry, juror, criterion, raw = (row[index[c]].strip() for c in COLUMNS)
            empty = [c for c, v in zip(COLUMNS, (entry, juror, criterion, raw), strict=True)
                     if not v]
            if empty:
                errors.append(LineError(number, str(_l("empty value in column %(column)s",
                                                       column=", ".join(empty)))))
                continue
            score = _number(raw)
            if score is None:
                errors.append(LineError(number, str(_l("the score “%(value)s” is not a number",
                                                       value=raw))))
                continue
            lines.append(_Line(number, entry.upper(), juror.lower(), criterion, score))
    except csv.Error as exc:
        errors.append(LineError(reader.line_num, str(_l("the line cannot be read: %(error)s",
                                                       error=str(exc)))))
    return lines, errors, count


def import_scores(*, session: Session, actor, round: Round, content: bytes,
                  filename: str = "") -> ImportResult:
    """Validate the whole file, then write it (see the module docstring). Returns the errors
    (and writes nothing) or the counts."""
    lines, errors, count = parse(content)
    result = ImportResult(ok=False, lines=count)
    viewer = policy.Viewer(session, actor)
    if actor is None:
        viewer.is_admin = True  # a command run on the server: the operator's rights
    decision = policy.allows(viewer, policy.Action.IMPORT_SCORES, round, now=utcnow())
    if not decision.ok:
        result.errors = [LineError(0, str(decision.reason))]
        result.status = decision.status
        return result
    if any(e.line <= 1 for e in errors):
        result.errors = errors
        return result
    call = round.call
    criteria = list(session.scalars(select(Criterion).where(
        Criterion.rubric_id == round.rubric_id).order_by(Criterion.position, Criterion.id))) \
        if round.rubric_id else []
    if not criteria:
        result.errors = [LineError(0, str(_l("The round has no rubric to score on yet.")))]
        return result
    by_key = {c.key: c for c in criteria}

    refs = sorted({ln.entry for ln in lines})
    emails = sorted({ln.juror for ln in lines})
    nominations = {
        row.reference.upper(): row for row in session.execute(
            select(Nomination.id, Nomination.reference, Nomination.status)
            .where(Nomination.call_id == call.id, func.upper(Nomination.reference).in_(refs)))
    } if refs else {}
    in_round = set(session.scalars(select(RoundEntry.nomination_id).where(
        RoundEntry.round_id == round.id)))
    users = {u.email.lower(): u for u in session.scalars(
        select(User).where(func.lower(User.email).in_(emails)))} if emails else {}
    panel_users: set[int] | None = None
    if round.panel_id is not None:
        panel_users = set(session.scalars(select(JuryMember.user_id).where(
            JuryMember.panel_id == round.panel_id, JuryMember.status == JurorStatus.ACTIVE,
            JuryMember.user_id.is_not(None))))
    # Conflicts found as well as declared (their own entry, their e-mail as the nominee's,
    # their organisation), the same rule as the assignment and the jurors' pages.
    conflicts = {(user.id, nid) for user in users.values()
                 for nid in conflicted_ids(session, Person.of(user), call.id)}
    reasons: dict[tuple[int, int], str] = {}

    def conflict_reason(user: User, nomination_id: int) -> str:
        if (user.id, nomination_id) not in reasons:
            kinds = conflict_kinds(session, Person.of(user),
                                   session.get(Nomination, nomination_id))
            reasons[(user.id, nomination_id)] = ", ".join(str(REASON_LABELS[k])
                                                          for k in kinds)
        return reasons[(user.id, nomination_id)]

    seen: dict[tuple[int, int, str], int] = {}
    pairs: dict[tuple[int, int], dict[str, float]] = {}
    pair_line: dict[tuple[int, int], int] = {}
    for ln in lines:
        line_errors = []
        nomination = nominations.get(ln.entry)
        user = users.get(ln.juror)
        criterion = by_key.get(ln.criterion)
        if nomination is None:
            line_errors.append(_l("unknown entry “%(ref)s”", ref=ln.entry))
        elif nomination.id not in in_round or nomination.status in NOT_RANKED:
            line_errors.append(_l("entry %(ref)s is not in this round", ref=ln.entry))
        if user is None:
            line_errors.append(_l("unknown juror “%(email)s” (no account with this e-mail)",
                                  email=ln.juror))
        elif panel_users is not None and user.id not in panel_users:
            line_errors.append(_l("%(email)s is not an active member of the round's panel",
                                  email=ln.juror))
        if criterion is None:
            line_errors.append(_l("unknown criterion “%(key)s”", key=ln.criterion))
        if nomination is not None and user is not None \
                and (user.id, nomination.id) in conflicts:
            line_errors.append(_l("%(email)s has a conflict of interest with %(ref)s "
                                  "(%(reason)s)", email=ln.juror, ref=ln.entry,
                                  reason=conflict_reason(user, nomination.id)))
        if criterion is not None:
            error = check_score(ln.score, criterion.min_score, criterion.max_score,
                                criterion.step)
            if error is not None:
                line_errors.append(str(SCORE_MESSAGES[error]) % {
                    "low": _fmt(criterion.min_score), "high": _fmt(criterion.max_score),
                    "step": _fmt(criterion.step)})
        if nomination is not None and user is not None and criterion is not None:
            key = (nomination.id, user.id, criterion.key)
            if key in seen:
                line_errors.append(_l("duplicate of line %(line)d", line=seen[key]))
            else:
                seen[key] = ln.number
        if line_errors:
            errors.append(LineError(ln.number, "; ".join(str(e) for e in line_errors)))
            continue
        pair = (nomination.id, user.id)
        pairs.setdefault(pair, {})[criterion.key] = ln.score
        pair_line.setdefault(pair, ln.number)
    for pair, sheet in pairs.items():
        missing = [c.key for c in criteria if c.key not in sheet]
        if missing:
            ref = next(r for r, n in nominations.items() if n.id == pair[0])
            email = next(e for e, u in users.items() if u.id == pair[1])
            errors.append(LineError(pair_line[pair], str(_l(
                "%(ref)s / %(email)s: no score for the criteria %(keys)s",
                ref=ref, email=email, keys=", ".join(missing)))))
    if errors:
        errors.sort(key=lambda e: e.line)
        result.truncated = len(errors) > MAX_ERRORS
        result.errors = errors[:MAX_ERRORS]
        return result

    _write(session, actor=actor, round=round, criteria=criteria, pairs=pairs, result=result)
    result.ok = True
    audit.record(session, action="ranking.scores_import", object_type="round",
                 object_id=round.id, actor=actor, call_id=call.id,
                 after={**result.summary(), "file": filename[:200]})
    return result


def _write(session: Session, *, actor, round: Round, criteria: list[Criterion],
           pairs: dict[tuple[int, int], dict[str, float]], result: ImportResult) -> None:
    rubric_criteria = judging_criteria(criteria)
    total_method = round.rubric.total_method
    entry_ids = sorted({p[0] for p in pairs})
    juror_ids = sorted({p[1] for p in pairs})
    existing = {
        (a.nomination_id, a.juror_id): a for a in session.scalars(
            select(Assignment).where(Assignment.round_id == round.id,
                                     Assignment.nomination_id.in_(entry_ids),
                                     Assignment.juror_id.in_(juror_ids))
            .options(selectinload(Assignment.review).selectinload(Review.scores)))
    }
    now = utcnow()
    actor_id = getattr(actor, "id", None)
    by_id = {c.id: c for c in criteria}
    for pair in sorted(pairs):
        sheet = pairs[pair]
        assignment = existing.get(pair)
        if assignment is None:
            assignment = Assignment(round_id=round.id, nomination_id=pair[0], juror_id=pair[1],
                                    status=AssignmentStatus.ACTIVE, assigned_at=now,
                                    assigned_by_id=actor_id)
            session.add(assignment)
            result.assignments_created += 1
        elif assignment.status != AssignmentStatus.ACTIVE:
            assignment.status = AssignmentStatus.ACTIVE
            assignment.recused_at = None
            result.assignments_reactivated += 1
        review = assignment.review
        if review is None:
            review = Review(assignment=assignment)
            review.scores = []
            session.add(review)
            result.reviews_created += 1
        else:
            result.reviews_updated += 1
        stored = {by_id[s.criterion_id].key: s for s in review.scores if s.criterion_id in by_id}
        for c in criteria:
            score = stored.get(c.key)
            if score is None:
                review.scores.append(Score(criterion_id=c.id, value=sheet[c.key]))
            else:
                score.value = sheet[c.key]
            result.scores += 1
        review.status = ReviewStatus.SUBMITTED
        review.submitted_at = now
        review.imported = True
        review.total = review_total(sheet, rubric_criteria, total_method)
    result.pairs = len(pairs)
    session.flush()
