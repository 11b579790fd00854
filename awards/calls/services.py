"""Setting up a competition: programmes, calls, categories with their award levels, the
application form, and cloning a call into next year's edition.

Every function takes keyword-only arguments, checks the rules a form cannot check alone
(uniqueness, things still in use), flushes, writes an audit event and
leaves the commit to the caller. A broken rule raises :class:`CallSetupError` *before* anything
is changed, naming the form field the message belongs to."""

from __future__ import annotations

import copy
import enum
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from awards import audit
from awards.calls.models import AwardLevel, Call, Category, FormField, Programme
from awards.enums import CallStatus
from awards.jury.models import Criterion, Round, Rubric
from awards.nominations.models import Answer, Nomination
from awards.refusals import Refusal
from awards.timeutil import local_to_utc, utc_to_local


class CallSetupError(Refusal):
    """A change refused by a rule; ``field`` is the form field the message belongs to (None
    for the page as a whole)."""


class StaleCallError(CallSetupError):
    """The call was changed by someone else since the form was loaded."""


# ---- what each kind of object exposes for editing (and for the audit log) --------------------

PROGRAMME_FIELDS = (
    "slug", "name_kk", "name_ru", "name_en", "description_kk", "description_ru", "description_en",
)
CALL_FIELDS = (
    "programme_id", "slug", "reference_prefix", "year",
    "title_kk", "title_ru", "title_en", "rules_kk", "rules_ru", "rules_en",
    "consent_text_kk", "consent_text_ru", "consent_text_en",
    "timezone", "opens_at", "closes_at",
    "allowed_nominator_kinds", "requires_nominee_consent", "has_public_stage",
    "organisation_certificate",
)
# What the audit log records of a call: its settings and its phase.
CALL_AUDIT_FIELDS = (*CALL_FIELDS, "status")
CATEGORY_FIELDS = (
    "code", "name_kk", "name_ru", "name_en", "description_kk", "description_ru",
    "description_en", "winners_count",
)
AWARD_LEVEL_FIELDS = ("key", "name_kk", "name_ru", "name_en", "count")
FORM_FIELD_FIELDS = (
    "key", "type", "label_kk", "label_ru", "label_en", "help_kk", "help_ru", "help_en",
    "required", "category_id", "nominator_kinds", "options", "min_value", "max_value",
    "max_length", "file_types", "file_max_bytes", "file_max_count", "is_identifying",
    "is_public",
)

def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def snapshot(obj: Any, names: Iterable[str]) -> dict[str, Any]:
    return {name: _plain(getattr(obj, name)) for name in names}


def _apply(obj: Any, allowed: tuple[str, ...], values: Mapping[str, Any]) -> tuple[dict, dict]:
    """Set the allowed attributes that differ; return (before, after) of the changed ones."""
    unknown = set(values) - set(allowed)
    if unknown:
        raise TypeError(f"not editable here: {sorted(unknown)}")
    before, after = {}, {}
    for name, value in values.items():
        old = getattr(obj, name)
        if _plain(old) == _plain(value):
            continue
        before[name] = _plain(old)
        after[name] = _plain(value)
        setattr(obj, name, copy.deepcopy(value))
    return before, after


def _next_position(session: Session, column, *where) -> int:
    return (session.scalar(select(func.max(column)).where(*where)) or 0) + 1


def _move(items: list, item: Any, direction: int) -> bool:
    """Swap ``item`` with its neighbour and renumber 1..n (positions may have had gaps or
    duplicates, e.g. all 0 from an import)."""
    index = items.index(item)
    target = index + direction
    if not 0 <= target < len(items):
        return False
    items[index], items[target] = items[target], items[index]
    for position, obj in enumerate(items, start=1):
        obj.position = position
    return True


def _renumber(items: Iterable[Any]) -> None:
    for position, obj in enumerate(items, start=1):
        obj.position = position


# ---- programmes -------------------------------------------------------------------------------


def _check_programme_slug(session: Session, slug: str, programme_id: int | None) -> None:
    clash = session.scalar(
        select(Programme.id).where(Programme.slug == slug, Programme.id != (programme_id or 0))
    )
    if clash is not None:
        raise CallSetupError(_l("Another programme already uses this address name."),
                             field="slug")


def create_programme(*, session: Session, actor, values: Mapping[str, Any]) -> Programme:
    _check_programme_slug(session, values["slug"], None)
    programme = Programme()
    _apply(programme, PROGRAMME_FIELDS, values)
    session.add(programme)
    session.flush()
    audit.record(session, action="programme.create", object_type="programme",
                 object_id=programme.id, actor=actor,
                 after=snapshot(programme, PROGRAMME_FIELDS))
    return programme


def update_programme(*, session: Session, actor, programme: Programme,
                     values: Mapping[str, Any]) -> bool:
    if "slug" in values:
        _check_programme_slug(session, values["slug"], programme.id)
    before, after = _apply(programme, PROGRAMME_FIELDS, values)
    if not after:
        return False
    session.flush()
    audit.record(session, action="programme.update", object_type="programme",
                 object_id=programme.id, actor=actor, before=before, after=after)
    return True


# ---- calls ------------------------------------------------------------------------------------


def _check_call_slug(session: Session, slug: str, call_id: int | None) -> None:
    clash = session.scalar(select(Call.id).where(Call.slug == slug, Call.id != (call_id or 0)))
    if clash is not None:
        raise CallSetupError(_l("Another call already uses this address name."), field="slug")


def _check_dates(opens_at: datetime, closes_at: datetime) -> None:
    if closes_at <= opens_at:
        raise CallSetupError(_l("The closing time must be after the opening time."),
                             field="closes_at")


def _check_kinds(kinds: list[str]) -> None:
    if not kinds:
        raise CallSetupError(_l("Allow at least one kind of nominator."),
                             field="allowed_nominator_kinds")


def _check_titles(values: Mapping[str, Any], call: Call | None = None) -> None:
    titles = [values.get(f"title_{code}", getattr(call, f"title_{code}", "") if call else "")
              for code in ("kk", "ru", "en")]
    if not any(t and t.strip() for t in titles):
        raise CallSetupError(_l("Enter the title in at least one language."), field="title_ru")


def create_call(*, session: Session, actor, values: Mapping[str, Any]) -> Call:
    """A new call always starts as a draft; it moves on through ``awards.lifecycle``."""
    values = dict(values)
    values.pop("status", None)
    _check_call_slug(session, values["slug"], None)
    _check_titles(values)
    _check_dates(values["opens_at"], values["closes_at"])
    _check_kinds(values.get("allowed_nominator_kinds") or [])
    if session.get(Programme, values["programme_id"]) is None:
        raise CallSetupError(_l("Choose a programme."), field="programme_id")
    call = Call(status=CallStatus.DRAFT)
    _apply(call, CALL_FIELDS, values)
    session.add(call)
    session.flush()
    audit.record(session, action="call.create", object_type="call", object_id=call.id,
                 call_id=call.id, actor=actor, after=snapshot(call, CALL_AUDIT_FIELDS))
    return call


def update_call(*, session: Session, actor, call: Call, values: Mapping[str, Any],
                expected_version: int | None) -> bool:
    """Apply the edited settings (never the phase: that moves through ``awards.lifecycle``).
    ``expected_version`` is the version the editor loaded; if the
    call has moved on since, nothing is written and :class:`StaleCallError` is raised (the
    mapper's version counter catches a change that lands between this check and the flush)."""
    if expected_version is not None and expected_version != call.version_id:
        raise StaleCallError(_l("Someone else changed this call while you were editing it. "
                                "Reload the page to see their changes, then make yours again."))
    if "slug" in values:
        _check_call_slug(session, values["slug"], call.id)
    _check_titles(values, call)
    _check_dates(values.get("opens_at", call.opens_at), values.get("closes_at", call.closes_at))
    if "allowed_nominator_kinds" in values:
        _check_kinds(values["allowed_nominator_kinds"])
    if "programme_id" in values and session.get(Programme, values["programme_id"]) is None:
        raise CallSetupError(_l("Choose a programme."), field="programme_id")
    if values.get("has_public_stage") is False and call.status == CallStatus.PUBLIC_STAGE:
        raise CallSetupError(_l("The call is in its public stage, so the public stage cannot "
                                "be switched off now."), field="has_public_stage")
    before, after = _apply(call, CALL_FIELDS, values)
    if not after:
        return False
    try:
        session.flush()
    except StaleDataError as exc:
        raise StaleCallError(_l("Someone else changed this call while you were editing it. "
                                "Reload the page to see their changes, then make yours "
                                "again.")) from exc
    audit.record(session, action="call.update", object_type="call", object_id=call.id,
                 call_id=call.id, actor=actor, before=before, after=after)
    return True


# ---- categories and award levels --------------------------------------------------------------


def _check_category_code(session: Session, call_id: int, code: str,
                         category_id: int | None) -> None:
    clash = session.scalar(select(Category.id).where(
        Category.call_id == call_id, Category.code == code, Category.id != (category_id or 0)))
    if clash is not None:
        raise CallSetupError(_l("This call already has a category with this code."),
                             field="code")


def create_category(*, session: Session, actor, call: Call,
                    values: Mapping[str, Any]) -> Category:
    _check_category_code(session, call.id, values["code"], None)
    category = Category(call=call, position=_next_position(
        session, Category.position, Category.call_id == call.id))
    _apply(category, CATEGORY_FIELDS, values)
    session.add(category)
    session.flush()
    audit.record(session, action="category.create", object_type="category",
                 object_id=category.id, call_id=call.id, actor=actor,
                 after=snapshot(category, (*CATEGORY_FIELDS, "position")))
    return category


def update_category(*, session: Session, actor, category: Category,
                    values: Mapping[str, Any]) -> bool:
    if "code" in values:
        _check_category_code(session, category.call_id, values["code"], category.id)
    before, after = _apply(category, CATEGORY_FIELDS, values)
    if not after:
        return False
    session.flush()
    audit.record(session, action="category.update", object_type="category",
                 object_id=category.id, call_id=category.call_id, actor=actor,
                 before=before, after=after)
    return True


def category_nomination_count(session: Session, category: Category) -> int:
    return session.scalar(
        select(func.count(Nomination.id)).where(Nomination.category_id == category.id)
    ) or 0


def delete_category(*, session: Session, actor, category: Category) -> None:
    """Refused while any nomination (even a draft) is in the category: the applicant's work
    would go with it. Form fields limited to the category go with it (the database would
    cascade them anyway; doing it here puts them in the audit log)."""
    if category_nomination_count(session, category):
        raise CallSetupError(_l("This category has nominations, so it cannot be deleted."))
    call = category.call
    limited = list(session.scalars(select(FormField).where(FormField.category_id == category.id)))
    if limited and session.scalar(select(func.count(Answer.id)).where(
            Answer.field_id.in_([f.id for f in limited]))):
        raise CallSetupError(_l("Questions limited to this category have answers, so it "
                                "cannot be deleted."))
    before = snapshot(category, (*CATEGORY_FIELDS, "position"))
    before["award_levels"] = [snapshot(level, AWARD_LEVEL_FIELDS)
                              for level in category.award_levels]
    before["form_fields"] = [f.key for f in limited]
    category_id = category.id
    for form_field in limited:
        if form_field in call.fields:
            call.fields.remove(form_field)
        session.delete(form_field)
    call.categories.remove(category)
    session.delete(category)
    session.flush()
    _renumber(call.categories)
    session.flush()
    audit.record(session, action="category.delete", object_type="category",
                 object_id=category_id, call_id=call.id, actor=actor, before=before)


def move_category(*, session: Session, actor, category: Category, direction: int) -> bool:
    call = category.call
    items = list(call.categories)
    order_before = [c.code for c in items]
    if not _move(items, category, direction):
        return False
    session.flush()
    session.expire(call, ["categories"])
    audit.record(session, action="category.move", object_type="category",
                 object_id=category.id, call_id=call.id, actor=actor,
                 before={"order": order_before}, after={"order": [c.code for c in items]})
    return True


def _check_level_key(session: Session, category_id: int, key: str, level_id: int | None) -> None:
    clash = session.scalar(select(AwardLevel.id).where(
        AwardLevel.category_id == category_id, AwardLevel.key == key,
        AwardLevel.id != (level_id or 0)))
    if clash is not None:
        raise CallSetupError(_l("This category already has an award level with this key."),
                             field="key")


def create_award_level(*, session: Session, actor, category: Category,
                       values: Mapping[str, Any]) -> AwardLevel:
    _check_level_key(session, category.id, values["key"], None)
    level = AwardLevel(category=category, position=_next_position(
        session, AwardLevel.position, AwardLevel.category_id == category.id))
    _apply(level, AWARD_LEVEL_FIELDS, values)
    session.add(level)
    session.flush()
    audit.record(session, action="award_level.create", object_type="award_level",
                 object_id=level.id, call_id=category.call_id, actor=actor,
                 after={"category_id": category.id,
                        **snapshot(level, (*AWARD_LEVEL_FIELDS, "position"))})
    return level


def update_award_level(*, session: Session, actor, level: AwardLevel,
                       values: Mapping[str, Any]) -> bool:
    if "key" in values:
        _check_level_key(session, level.category_id, values["key"], level.id)
    before, after = _apply(level, AWARD_LEVEL_FIELDS, values)
    if not after:
        return False
    session.flush()
    audit.record(session, action="award_level.update", object_type="award_level",
                 object_id=level.id, call_id=level.category.call_id, actor=actor,
                 before=before, after=after)
    return True


def delete_award_level(*, session: Session, actor, level: AwardLevel) -> None:
    category = level.category
    before = {"category_id": category.id, **snapshot(level, (*AWARD_LEVEL_FIELDS, "position"))}
    level_id = level.id
    category.award_levels.remove(level)
    session.delete(level)
    session.flush()
    _renumber(category.award_levels)
    session.flush()
    audit.record(session, action="award_level.delete", object_type="award_level",
                 object_id=level_id, call_id=category.call_id, actor=actor, before=before)


def move_award_level(*, session: Session, actor, level: AwardLevel, direction: int) -> bool:
    category = level.category
    items = list(category.award_levels)
    order_before = [lv.key for lv in items]
    if not _move(items, level, direction):
        return False
    session.flush()
    session.expire(category, ["award_levels"])
    audit.record(session, action="award_level.move", object_type="award_level",
                 object_id=level.id, call_id=category.call_id, actor=actor,
                 before={"order": order_before}, after={"order": [lv.key for lv in items]})
    return True


# ---- the application form ---------------------------------------------------------------------


def _check_field(session: Session, call: Call, values: Mapping[str, Any],
                 field_id: int | None) -> None:
    if "key" in values:
        clash = session.scalar(select(FormField.id).where(
            FormField.call_id == call.id, FormField.key == values["key"],
            FormField.id != (field_id or 0)))
        if clash is not None:
            raise CallSetupError(_l("This form already has a question with this key."),
                                 field="key")
    category_id = values.get("category_id")
    if category_id is not None and category_id not in {c.id for c in call.categories}:
        raise CallSetupError(_l("Choose a category of this call."), field="category_id")


def create_form_field(*, session: Session, actor, call: Call,
                      values: Mapping[str, Any]) -> FormField:
    _check_field(session, call, values, None)
    form_field = FormField(call=call, position=_next_position(
        session, FormField.position, FormField.call_id == call.id))
    _apply(form_field, FORM_FIELD_FIELDS, values)
    session.add(form_field)
    session.flush()
    audit.record(session, action="form_field.create", object_type="form_field",
                 object_id=form_field.id, call_id=call.id, actor=actor,
                 after=snapshot(form_field, (*FORM_FIELD_FIELDS, "position")))
    return form_field


def update_form_field(*, session: Session, actor, form_field: FormField,
                      values: Mapping[str, Any]) -> bool:
    """The type is fixed once created: answers already given have the old type's shape."""
    values = {k: v for k, v in values.items() if k != "type"}
    _check_field(session, form_field.call, values, form_field.id)
    before, after = _apply(form_field, FORM_FIELD_FIELDS, values)
    if not after:
        return False
    session.flush()
    audit.record(session, action="form_field.update", object_type="form_field",
                 object_id=form_field.id, call_id=form_field.call_id, actor=actor,
                 before=before, after=after)
    return True


def form_field_answer_count(session: Session, form_field: FormField) -> int:
    return session.scalar(
        select(func.count(Answer.id)).where(Answer.field_id == form_field.id)
    ) or 0


def delete_form_field(*, session: Session, actor, form_field: FormField) -> None:
    """Refused once anyone has answered the question: the answers are part of submitted
    nominations (and of their saved versions) and must keep meaning something."""
    if form_field_answer_count(session, form_field):
        raise CallSetupError(_l(
            "Nominations already answer this question, so it cannot be deleted. You can make "
            "it optional or limit it to a category instead."))
    call = form_field.call
    before = snapshot(form_field, (*FORM_FIELD_FIELDS, "position"))
    field_id = form_field.id
    call.fields.remove(form_field)
    session.delete(form_field)
    session.flush()
    _renumber(call.fields)
    session.flush()
    audit.record(session, action="form_field.delete", object_type="form_field",
                 object_id=field_id, call_id=call.id, actor=actor, before=before)


def move_form_field(*, session: Session, actor, form_field: FormField, direction: int) -> bool:
    call = form_field.call
    items = list(call.fields)
    order_before = [f.key for f in items]
    if not _move(items, form_field, direction):
        return False
    session.flush()
    session.expire(call, ["fields"])
    audit.record(session, action="form_field.move", object_type="form_field",
                 object_id=form_field.id, call_id=call.id, actor=actor,
                 before={"order": order_before}, after={"order": [f.key for f in items]})
    return True


# ---- cloning ----------------------------------------------------------------------------------

# Never copied: identity, links to the source's rows (re-mapped by hand), bookkeeping.
_NOT_CLONED = {
    "id", "call_id", "category_id", "rubric_id", "panel_id", "cloned_from_id", "created_at",
    "updated_at", "version_id", "status",
}


def _copy_columns(source: Any, target_cls: type, **overrides) -> Any:
    """A new ``target_cls`` with every column of ``source`` except the ones above, so columns
    added to the models later are cloned too."""
    values = {}
    for attr in inspect(target_cls).column_attrs:
        if attr.key in _NOT_CLONED:
            continue
        values[attr.key] = copy.deepcopy(getattr(source, attr.key))
    values.update(overrides)
    return target_cls(**values)


def shift_years(value: datetime | None, years: int, tz: str) -> datetime | None:
    """The same wall-clock time ``years`` later in the call's zone (29 February becomes the
    28th), so "30 November, 23:59 Almaty" stays exactly that even if the offset changed."""
    if value is None or years == 0:
        return value
    local = utc_to_local(value, tz).replace(tzinfo=None)
    try:
        moved = local.replace(year=local.year + years)
    except ValueError:
        moved = local.replace(year=local.year + years, day=28)
    return local_to_utc(moved, tz)


def _replace_year(text: str, old: int, new: int) -> str:
    return text.replace(str(old), str(new)) if text else text


def clone_call(*, session: Session, call: Call, year: int, slug: str, actor,
               titles: Mapping[str, str] | None = None) -> Call:
    """Next year's edition of ``call``: its settings, categories with award levels, application
    form, rubrics with criteria and rounds, with every date moved by the difference in years.
    The copy is a draft and remembers its source. Panels, nominations and everything judged
    are not copied: each edition has its own jury and entries.

    ``titles`` ({"kk": ..., "ru": ..., "en": ...}) defaults to the source's titles with the
    year replaced."""
    _check_call_slug(session, slug, None)
    years = year - call.year
    tz = call.timezone
    if titles is None:
        titles = {code: _replace_year(getattr(call, f"title_{code}"), call.year, year)
                  for code in ("kk", "ru", "en")}
    if not any((titles.get(code) or "").strip() for code in ("kk", "ru", "en")):
        raise CallSetupError(_l("Enter the title in at least one language."), field="title_ru")

    new = _copy_columns(
        call, Call, slug=slug, year=year, status=CallStatus.DRAFT, cloned_from=call,
        programme_id=call.programme_id,
        opens_at=shift_years(call.opens_at, years, tz),
        closes_at=shift_years(call.closes_at, years, tz),
        **{f"title_{code}": titles.get(code, "") or "" for code in ("kk", "ru", "en")},
    )
    category_map: dict[int, Category] = {}
    for category in call.categories:
        new_category = _copy_columns(category, Category)
        new_category.award_levels = [_copy_columns(level, AwardLevel)
                                     for level in category.award_levels]
        new.categories.append(new_category)
        category_map[category.id] = new_category
    for form_field in call.fields:
        new_field = _copy_columns(form_field, FormField)
        if form_field.category_id is not None:
            new_field.category = category_map[form_field.category_id]
        new.fields.append(new_field)
    rubric_map: dict[int, Rubric] = {}
    for rubric in call.rubrics:
        new_rubric = _copy_columns(rubric, Rubric)
        new_rubric.criteria = [_copy_columns(c, Criterion) for c in rubric.criteria]
        new.rubrics.append(new_rubric)
        rubric_map[rubric.id] = new_rubric
    for round_ in call.rounds:
        new_round = _copy_columns(
            round_, Round,
            opens_at=shift_years(round_.opens_at, years, tz),
            closes_at=shift_years(round_.closes_at, years, tz),
        )
        if round_.rubric_id is not None:
            new_round.rubric = rubric_map.get(round_.rubric_id)
        new.rounds.append(new_round)
    session.add(new)
    session.flush()
    audit.record(
        session, action="call.clone", object_type="call", object_id=new.id, call_id=new.id,
        actor=actor, before={"source_call_id": call.id, "source_slug": call.slug},
        after={
            **snapshot(new, CALL_AUDIT_FIELDS),
            "cloned_from_id": call.id,
            "categories": {str(old): c.id for old, c in category_map.items()},
            "form_fields": len(new.fields),
            "rubrics": {str(old): r.id for old, r in rubric_map.items()},
            "rounds": len(new.rounds),
        },
    )
    return new


def public_calls(*, session, now) -> tuple[list[Call], list[Call]]:
    """Calls a visitor can apply to now, and those opening later (both soonest first)."""
    calls = session.scalars(
        select(Call).where(Call.status == CallStatus.OPEN, Call.closes_at >= now)
        .order_by(Call.closes_at, Call.id)
    ).all()
    open_calls = [c for c in calls if c.opens_at <= now]
    upcoming = sorted((c for c in calls if c.opens_at > now), key=lambda c: (c.opens_at, c.id))
    return open_calls, upcoming
