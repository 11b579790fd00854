"""Screening forms: the filter of the list (GET, no CSRF), one decision, one decision for many."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    IntegerField,
    RadioField,
    SearchField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError
from wtforms.widgets import HiddenInput

from awards.boundary import whole_number
from awards.enums import NominationStatus
from awards.forms import BaseForm
from awards.screening.services import DECISIONS, LISTED_STATUSES, REASON_REQUIRED, STATUS_LABELS

DECISION_LABELS = {
    NominationStatus.ELIGIBLE: _l("Eligible"),
    NominationStatus.INELIGIBLE: _l("Ineligible"),
    NominationStatus.CHANGES_REQUESTED: _l("Request changes"),
}
DECISION_CHOICES = [SelectChoice(d.value, DECISION_LABELS[d]) for d in DECISIONS]
MAX_TEXT = 5000


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _reason_if_required(form, field) -> None:
    if form.decision.data in {d.value for d in REASON_REQUIRED} and not field.data:
        raise ValidationError(
            _l("Give the applicant a reason: it is required when an entry is found ineligible "
               "or sent back for changes."))


class FilterForm(BaseForm):
    """Read from the query string: a GET filter changes nothing and needs no token."""

    class Meta:
        csrf = False

    category = SelectField(_l("Category"), choices=[], validate_choice=False)
    status = SelectField(
        _l("Status"),
        choices=[SelectChoice("", _l("All statuses"))]
        + [SelectChoice(s.value, STATUS_LABELS[s]) for s in LISTED_STATUSES],
        validate_choice=False,
    )
    q = SearchField(_l("Search"), filters=[_strip], validators=[Optional(), Length(max=200)],
                    description=_l("Reference, nominee, applicant, e-mail, organisation or "
                                   "answer text."))

    def set_categories(self, categories, language_label) -> None:
        self.category.choices = [SelectChoice("", _l("All categories"))] + [
            SelectChoice(str(c.id), language_label(c)) for c in categories
        ]

    def category_id(self, valid_ids: set[int]) -> int | None:
        value = self.category.data or ""
        number = whole_number(value)
        return number if number in valid_ids else None

    def status_value(self) -> NominationStatus | None:
        try:
            status = NominationStatus(self.status.data or "")
        except ValueError:
            return None
        return status if status in LISTED_STATUSES else None

    def search(self) -> str:
        return (self.q.data or "")[:200]


class DecisionForm(BaseForm):
    decision = RadioField(_l("Decision"), choices=DECISION_CHOICES,
                          validators=[InputRequired(message=_l("Choose a decision."))])
    reason = TextAreaField(
        _l("Reason for the applicant"), filters=[_strip],
        validators=[_reason_if_required, Length(max=MAX_TEXT)],
        description=_l("The applicant sees it on the nomination page and receives it by "
                       "e-mail. Required for “ineligible” and “request changes”."),
    )
    note = TextAreaField(
        _l("Internal note"), filters=[_strip], validators=[Optional(), Length(max=MAX_TEXT)],
        description=_l("Only administrators see it; it is never shown or sent to the "
                       "applicant."),
    )
    # The version of the entry the page showed: a decision taken on an outdated page is refused.
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


class BulkDecisionForm(BaseForm):
    # "<id>:<version>" per checked row; parsed by services.parse_items.
    selected = SelectMultipleField(_l("Selected nominations"), choices=[], validate_choice=False)
    decision = SelectField(_l("Decision for the selected nominations"),
                           choices=[SelectChoice("", _l("Choose…")), *DECISION_CHOICES],
                           validators=[InputRequired(message=_l("Choose a decision."))])
    reason = TextAreaField(
        _l("Reason for the applicants"), filters=[_strip],
        validators=[_reason_if_required, Length(max=MAX_TEXT)],
        description=_l("The same reason is shown and e-mailed to every selected applicant."),
    )

    def validate_decision(self, field) -> None:
        if field.data not in {d.value for d in DECISIONS}:
            raise ValidationError(_l("Choose a decision."))

    def validate_selected(self, field) -> None:
        if not field.data:
            raise ValidationError(_l("Select at least one nomination."))
