"""Administrator forms for rounds, rubrics, panels, invitations, conflicts and assignments.
They check what the submitted values alone can tell and turn them into the values the services
in ``awards.jury.setup`` take; they never write to the database."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    FloatField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
)

from awards.auth.forms import _strong_password
from awards.auth.services import MIN_PASSWORD_LENGTH
from awards.boundary import whole_number
from awards.calls.forms import LocalDateTimeField, MultiCheckboxField
from awards.enums import RoundKind, RoundStatus
from awards.forms import BaseForm
from awards.timeutil import local_to_utc, utc_to_local_naive

LANGS = ("kk", "ru", "en")
KEY_RE = r"^[a-z][a-z0-9_]*$"

ROUND_STATUS_LABELS = {
    RoundStatus.DRAFT: _l("Draft (jurors do not see it)"),
    RoundStatus.OPEN: _l("Open for reviews"),
    RoundStatus.CLOSED: _l("Closed (final)"),
}
# A juror's seat, as the administrators' pages name it (the same words in every list).
MEMBER_STATUS_LABELS = {
    "active": _l("accepted"),
    "invited": _l("invited"),
    "declined": _l("declined"),
    "left": _l("left"),
}
MEMBER_STATUS_BADGES = {"active": "ok", "invited": "warn", "declined": "bad", "left": ""}
ROUND_KIND_LABELS = {
    RoundKind.SCORING: _l("Scoring on a rubric"),
    RoundKind.VOTE: _l("Commission vote"),
}


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _lang_label(text, code: str):
    names = {"kk": _l("Kazakh"), "ru": _l("Russian"), "en": _l("English")}
    return _l("%(what)s (%(language)s)", what=text, language=names[code])


def _ml(field_cls, label, code: str, *, max_length: int | None = None):
    validators = [Optional()]
    if max_length:
        validators.append(Length(max=max_length))
    return field_cls(_lang_label(label, code), filters=[_strip], validators=validators,
                     render_kw={"lang": code})


# ---- rounds -----------------------------------------------------------------------------------


class RoundForm(BaseForm):
    name_kk = _ml(StringField, _l("Name"), "kk", max_length=200)
    name_ru = _ml(StringField, _l("Name"), "ru", max_length=200)
    name_en = _ml(StringField, _l("Name"), "en", max_length=200)
    kind = SelectField(_l("Kind of round"), default=RoundKind.SCORING.value,
                       choices=[SelectChoice(k.value, label)
                                for k, label in ROUND_KIND_LABELS.items()],
                       description=_l("Commission votes are prepared here but run later."))
    opens_at = LocalDateTimeField(_l("Opens at"), validators=[Optional()],
                                  description=_l("Local time in the call's time zone."))
    closes_at = LocalDateTimeField(_l("Closes at"), validators=[Optional()],
                                   description=_l("Local time in the call's time zone; jurors "
                                                  "can submit until then."))
    blind = BooleanField(_l("Blind review: jurors do not see who is nominated"))
    reviews_per_entry = IntegerField(_l("Reviews per entry"), default=3,
                                     validators=[InputRequired(), NumberRange(min=1, max=50)])
    panel_id = SelectField(_l("Panel"), coerce=int, default=0)
    show_scores_to_chairs = BooleanField(_l("Chairs see the scores while the round is open"),
                                         default=True)
    status = SelectField(_l("Status"))

    def __init__(self, *args, panels=(), statuses=(RoundStatus.DRAFT, RoundStatus.OPEN),
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.panel_id.choices = [SelectChoice(0, _l("— no panel yet —"))] + [
            SelectChoice(p.id, p.name) for p in panels]
        self.status.choices = [SelectChoice(RoundStatus(s).value, ROUND_STATUS_LABELS[s])
                               for s in statuses]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not any(getattr(self, f"name_{c}").data for c in LANGS):
            self.name_ru.errors.append(_l("Enter the name in at least one language."))
            ok = False
        opens, closes = self.opens_at.data, self.closes_at.data
        if opens and closes and closes <= opens:
            self.closes_at.errors.append(_l("The closing time must be after the opening time."))
            ok = False
        return ok

    def values(self, tz: str) -> dict[str, Any]:
        values: dict[str, Any] = {f"name_{c}": getattr(self, f"name_{c}").data or ""
                                  for c in LANGS}
        values.update(
            kind=RoundKind(self.kind.data),
            opens_at=local_to_utc(self.opens_at.data, tz) if self.opens_at.data else None,
            closes_at=local_to_utc(self.closes_at.data, tz) if self.closes_at.data else None,
            blind=bool(self.blind.data),
            reviews_per_entry=self.reviews_per_entry.data,
            panel_id=self.panel_id.data or None,
            show_scores_to_chairs=bool(self.show_scores_to_chairs.data),
            status=RoundStatus(self.status.data),
        )
        return values

    @staticmethod
    def initial(rnd) -> dict[str, Any]:
        tz = rnd.call.timezone
        data = {name: getattr(rnd, name) for name in (
            "name_kk", "name_ru", "name_en", "blind", "reviews_per_entry",
            "show_scores_to_chairs")}
        data.update(kind=RoundKind(rnd.kind).value, status=RoundStatus(rnd.status).value,
                    panel_id=rnd.panel_id or 0,
                    opens_at=utc_to_local_naive(rnd.opens_at, tz),
                    closes_at=utc_to_local_naive(rnd.closes_at, tz))
        return data


# ---- rubric -----------------------------------------------------------------------------------


class CriterionForm(BaseForm):
    key = StringField(
        _l("Key"), filters=[_strip],
        validators=[DataRequired(), Length(max=40),
                    Regexp(KEY_RE, message=_l("Start with a Latin letter; then use lower-case "
                                              "Latin letters, digits and underscores."))],
        description=_l("A short name for exports, unique in the rubric, e.g. impact."))
    title_kk = _ml(StringField, _l("Title"), "kk", max_length=300)
    title_ru = _ml(StringField, _l("Title"), "ru", max_length=300)
    title_en = _ml(StringField, _l("Title"), "en", max_length=300)
    description_kk = _ml(TextAreaField, _l("Description for jurors"), "kk")
    description_ru = _ml(TextAreaField, _l("Description for jurors"), "ru")
    description_en = _ml(TextAreaField, _l("Description for jurors"), "en")
    min_score = FloatField(_l("Lowest score"), default=0, render_kw={"step": "any"},
                           validators=[InputRequired(message=_l("Enter a number."))])
    max_score = FloatField(_l("Highest score"), default=10, render_kw={"step": "any"},
                           validators=[InputRequired(message=_l("Enter a number."))])
    step = FloatField(_l("Step"), default=1, render_kw={"step": "any"},
                      validators=[InputRequired(message=_l("Enter a number."))],
                      description=_l("1 for whole points, 0.5 for half points."))
    weight = FloatField(_l("Weight"), default=1, render_kw={"step": "any"},
                        validators=[InputRequired(message=_l("Enter a number."))])
    position = IntegerField(_l("Order"), validators=[Optional(), NumberRange(min=0, max=1000)])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not any(getattr(self, f"title_{c}").data for c in LANGS):
            self.title_ru.errors.append(_l("Enter the title in at least one language."))
            ok = False
        low, high = self.min_score.data, self.max_score.data
        if not self.min_score.errors and not self.max_score.errors and high <= low:
            self.max_score.errors.append(_l("The highest score must be above the lowest."))
            ok = False
        if not self.step.errors and self.step.data <= 0:
            self.step.errors.append(_l("The step must be greater than zero."))
            ok = False
        if not self.weight.errors and self.weight.data < 0:
            self.weight.errors.append(_l("The weight cannot be negative."))
            ok = False
        return ok

    def values(self) -> dict[str, Any]:
        values: dict[str, Any] = {"key": self.key.data}
        for prefix in ("title", "description"):
            for code in LANGS:
                values[f"{prefix}_{code}"] = getattr(self, f"{prefix}_{code}").data or ""
        for name in ("min_score", "max_score", "step", "weight"):
            values[name] = float(getattr(self, name).data)
        values["position"] = self.position.data
        return values

    @staticmethod
    def initial(criterion) -> dict[str, Any]:
        return {name: getattr(criterion, name) for name in (
            "key", "min_score", "max_score", "step", "weight", "position",
            *(f"{p}_{c}" for p in ("title", "description") for c in LANGS))}


# ---- entries and assignments ------------------------------------------------------------------


class AddEntriesForm(BaseForm):
    references = TextAreaField(
        _l("Nominations to add"), validators=[DataRequired()],
        description=_l("Reference numbers (e.g. VOY-2026-00042), one per line."))

    def tokens(self) -> list[str]:
        return [t for t in (self.references.data or "").replace(",", "\n").split() if t]


class AssignmentForm(BaseForm):
    nomination_id = HiddenField(validators=[DataRequired()])
    juror_id = SelectField(_l("Juror"), coerce=int, validators=[InputRequired()])

    def __init__(self, *args, jurors=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.juror_id.choices = [SelectChoice(user_id, label) for user_id, label in jurors]

    def nomination(self) -> int | None:
        raw = self.nomination_id.data
        return whole_number(raw) if isinstance(raw, str) else None


class AutoAssignForm(BaseForm):
    seed = IntegerField(validators=[InputRequired()])
    digest = HiddenField(validators=[DataRequired(), Length(min=64, max=64)])


class LeaveForm(BaseForm):
    digest = HiddenField(validators=[DataRequired(), Length(min=64, max=64)])


# ---- panels and jurors ------------------------------------------------------------------------


class PanelForm(BaseForm):
    name = StringField(_l("Name of the panel"), filters=[_strip],
                       validators=[DataRequired(), Length(max=200)])


def _category_field():
    return MultiCheckboxField(
        _l("Categories this juror judges"), coerce=int,
        description=_l("Leave all unticked for a juror who judges every category."))


class InviteForm(BaseForm):
    email = EmailField(_l("E-mail"), filters=[_strip],
                       validators=[DataRequired(), Email(), Length(max=254)])
    is_chair = BooleanField(_l("Chair of the panel"))
    categories = _category_field()

    def __init__(self, *args, categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.categories.choices = [SelectChoice(c.id, label) for c, label in categories]


class MemberForm(BaseForm):
    is_chair = BooleanField(_l("Chair of the panel"))
    categories = _category_field()

    def __init__(self, *args, categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.categories.choices = [SelectChoice(c.id, label) for c, label in categories]


class ConflictForm(BaseForm):
    juror_id = SelectField(_l("Juror"), coerce=int, validators=[InputRequired()])
    reference = StringField(_l("Nomination"), filters=[_strip],
                            validators=[DataRequired(), Length(max=30)],
                            description=_l("Its reference number, e.g. VOY-2026-00042."))
    reason = TextAreaField(_l("Reason"), filters=[_strip],
                           validators=[DataRequired(), Length(max=2000)])

    def __init__(self, *args, jurors=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.juror_id.choices = [SelectChoice(user_id, label) for user_id, label in jurors]


class InvitationRegisterForm(BaseForm):
    full_name = StringField(_l("Full name"), filters=[_strip],
                            validators=[DataRequired(), Length(max=200)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), _strong_password],
                             description=_l("At least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    confirm = PasswordField(
        _l("Repeat password"),
        validators=[DataRequired(), EqualTo("password", message=_l("Passwords do not match."))])
    accept = BooleanField(
        _l("I agree that my personal data is processed to run the competitions I take part in."),
        validators=[DataRequired(message=_l("Please accept to continue."))])


class DeclineForm(BaseForm):
    """Saying no to an invitation: the reason is optional and only the organisers read it."""

    reason = TextAreaField(
        _l("Reason (optional)"), filters=[_strip], validators=[Optional(), Length(max=1000)],
        description=_l("For example: no time this year, or a conflict of interest. Only the "
                       "organisers read it."))
