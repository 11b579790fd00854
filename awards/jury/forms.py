"""Juror forms: the score sheet (built per rubric), reopening, recusing, and the dashboard's
filter. Forms read and check what was typed; the services decide and write."""

from __future__ import annotations

from typing import ClassVar

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from awards.boundary import whole_number
from awards.forms import BaseForm, CSRFOnlyForm
from awards.i18n import localized
from awards.judging.totals import ScoreError

MAX_COMMENT = 5000
MAX_OVERALL = 10000

ACTION_DRAFT = "draft"
ACTION_SUBMIT = "submit"
ACTION_NEXT = "next"  # save the draft and go on to the next entry to score


def score_name(criterion) -> str:
    return f"score_{criterion.id}"


def comment_name(criterion) -> str:
    return f"comment_{criterion.id}"


def number_text(value: float | None) -> str:
    """A stored score as the input shows it: 7 rather than 7.0, a dot as the separator."""
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def parse_score(raw: str | None) -> object:
    """``None`` when empty; a float when it reads as a number (a decimal comma is accepted,
    as Russian and Kazakh keyboards type it); otherwise the text as typed, which the rubric
    check reports as not a number."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        return float(text.replace(",", "."))
    except ValueError:
        return text


class ReviewForm(BaseForm):
    version = HiddenField(default="0")
    action = HiddenField(default=ACTION_DRAFT)
    overall_comment = TextAreaField(
        _l("Overall comment"), validators=[Optional(), Length(max=MAX_OVERALL)],
        description=_l("Your assessment of the entry as a whole. Administrators and, where "
                       "allowed, the jury chair can read it."))
    private_note = TextAreaField(
        _l("Private note"), validators=[Optional(), Length(max=MAX_COMMENT)],
        description=_l("Only you can see this note. It is not part of your review."))

    criteria: ClassVar[list] = []

    def score_field(self, criterion):
        return self[score_name(criterion)]

    def comment_field(self, criterion):
        return self[comment_name(criterion)]

    @property
    def submitting(self) -> bool:
        return self.action.data == ACTION_SUBMIT

    @property
    def going_on(self) -> bool:
        return self.action.data == ACTION_NEXT

    def expected_version(self) -> int | None:
        return whole_number(self.version.data or "")

    def scores(self) -> dict[str, object]:
        return {c.key: parse_score(self.score_field(c).data) for c in self.criteria}

    def comments(self) -> dict[str, str]:
        return {c.key: self.comment_field(c).data or "" for c in self.criteria}

    def add_score_errors(self, errors: dict[str, ScoreError]) -> None:
        for criterion in self.criteria:
            error = errors.get(criterion.key)
            if error is not None:
                self.score_field(criterion).errors = [score_message(error, criterion)]


def review_form_class(rubric) -> type[ReviewForm]:
    """The score sheet of one rubric: a score and a comment per criterion."""
    criteria = list(rubric.criteria) if rubric is not None else []
    attrs: dict = {"criteria": criteria}
    for c in criteria:
        title = localized(c, "title") or c.key
        # Scores are text: a typed value must come back exactly as typed when it is refused.
        attrs[score_name(c)] = StringField(
            _l("Score for “%(title)s”", title=title),
            filters=[lambda v: v.strip() if isinstance(v, str) else v])
        attrs[comment_name(c)] = TextAreaField(
            _l("Comment on “%(title)s”", title=title),
            validators=[Optional(), Length(max=MAX_COMMENT)])
    return type("RubricReviewForm", (ReviewForm,), attrs)


def review_form(rubric, review=None, *, formdata=None):
    """A bound form on post; on a page load, the stored review."""
    cls = review_form_class(rubric)
    if formdata is not None:
        return cls(formdata=formdata)
    data = {"version": str(review.version_id if review is not None else 0)}
    if review is not None:
        data["overall_comment"] = review.overall_comment
        data["private_note"] = review.private_note
        for c in cls.criteria:
            score = review.score_for(c.id)
            data[score_name(c)] = number_text(score.value if score else None)
            data[comment_name(c)] = score.comment if score else ""
    from werkzeug.datastructures import MultiDict

    return cls(formdata=MultiDict(), data=data)


def _num(value: float) -> str:
    from flask_babel import format_decimal

    return format_decimal(value, format="#,##0.###")


def score_message(error: ScoreError, criterion) -> str:
    low, high = _num(criterion.min_score), _num(criterion.max_score)
    if error is ScoreError.MISSING:
        return str(_l("Give a score for this criterion before submitting."))
    if error is ScoreError.NOT_A_NUMBER:
        return str(_l("Enter a number from %(low)s to %(high)s.", low=low, high=high))
    if error is ScoreError.OUT_OF_RANGE:
        return str(_l("The score must be between %(low)s and %(high)s.", low=low, high=high))
    if error is ScoreError.OFF_STEP:
        a = criterion.min_score
        b = criterion.min_score + criterion.step
        return str(_l("Scores go in steps of %(step)s from %(low)s (for example %(a)s or "
                      "%(b)s).", step=_num(criterion.step), low=low, a=_num(a), b=_num(b)))
    return str(_l("This score is not part of the rubric."))


class ReopenForm(CSRFOnlyForm):
    version = HiddenField()

    def expected_version(self) -> int | None:
        return whole_number(self.version.data or "")


class RecuseForm(BaseForm):
    reason = TextAreaField(
        _l("Reason"),
        validators=[InputRequired(_l("Say briefly why you cannot judge this entry.")),
                    Length(max=2000)],
        description=_l("For example: a relative, a colleague, or you took part in the "
                       "project. The organisers read it; the applicant does not."))
    confirm = BooleanField(
        _l("I confirm that I have a conflict of interest and will not judge this entry."),
        validators=[DataRequired(_l("Tick the box to confirm."))])


STATE_LABELS = {
    "todo": _l("To do"),
    "draft": _l("Draft"),
    "submitted": _l("Submitted"),
}


class DashboardFilter(BaseForm):
    """Read from the query string: a filter changes nothing and needs no token."""

    class Meta:
        csrf = False

    category = SelectField(_l("Category"), choices=[], validate_choice=False)
    status = SelectField(
        _l("Status"),
        choices=[SelectChoice("", _l("All"))]
        + [SelectChoice(key, label) for key, label in STATE_LABELS.items()],
        validate_choice=False)

    def set_categories(self, categories) -> None:
        self.category.choices = [SelectChoice("", _l("All categories"))] + [
            SelectChoice(str(c.id), localized(c, "name")) for c in categories]

    def category_id(self, allowed: set[int]) -> int | None:
        number = whole_number(self.category.data or "")
        return number if number in allowed else None

    def state(self) -> str | None:
        return self.status.data if self.status.data in STATE_LABELS else None
