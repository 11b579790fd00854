"""The fixed forms of the nominations pages (the application form itself is built per call by
``formbuilder``), and the words shown for statuses and kinds of nominator."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from wtforms import RadioField, SelectChoice, TextAreaField
from wtforms.validators import InputRequired, Length

from awards.enums import NominationStatus, NominatorKind
from awards.forms import BaseForm

STATUS_LABELS = {
    NominationStatus.DRAFT: _l("Draft"),
    NominationStatus.SUBMITTED: lazy_pgettext("nomination", "Submitted"),
    NominationStatus.CHANGES_REQUESTED: _l("Changes requested"),
    NominationStatus.ELIGIBLE: _l("Eligible"),
    NominationStatus.INELIGIBLE: _l("Not eligible"),
    NominationStatus.WITHDRAWN: _l("Withdrawn"),
}

STATUS_BADGES = {
    NominationStatus.DRAFT: "",
    NominationStatus.SUBMITTED: "ok",
    NominationStatus.CHANGES_REQUESTED: "warn",
    NominationStatus.ELIGIBLE: "ok",
    NominationStatus.INELIGIBLE: "bad",
    NominationStatus.WITHDRAWN: "bad",
}

KIND_LABELS = {
    NominatorKind.SELF: _l("Myself"),
    NominatorKind.OTHER: _l("Another person"),
    NominatorKind.ORGANISATION: _l("On behalf of an organisation"),
}

KIND_HINTS = {
    NominatorKind.SELF: _l("You are the nominee; your profile details are filled in."),
    NominatorKind.OTHER: _l("You nominate someone else; they will be asked by e-mail to "
                            "confirm."),
    NominatorKind.ORGANISATION: _l("Your organisation nominates a person, a collective or a "
                                   "work."),
}


class StartForm(BaseForm):
    category = RadioField(_l("Category"), validators=[InputRequired(
        message=_l("Choose a category."))])
    nominator_kind = RadioField(_l("Who is nominated"), validators=[InputRequired(
        message=_l("Choose who is nominated."))])

    def __init__(self, *args, categories=(), kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.category.choices = [SelectChoice(c.code, label) for c, label in categories]
        self.nominator_kind.choices = [SelectChoice(k, KIND_LABELS[k]) for k in kinds]


class WithdrawForm(BaseForm):
    reason = TextAreaField(_l("Reason (optional)"), validators=[Length(max=2000)],
                           description=_l("The organisers will see it."))


class ConsentForm(BaseForm):
    """The nominee's answer; which button was pressed is read from ``decision``."""
