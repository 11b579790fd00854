"""Forms of the public stage: the voter's e-mail and code, comments and reports, and the
administrator's stage settings, annulments, moderation and close."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from awards.calls.forms import LocalDateTimeField
from awards.enums import StageKind, VoteTieRule
from awards.forms import BaseForm
from awards.public_stage.services import COMMENT_MAX, NAME_MAX, REASON_MAX
from awards.timeutil import local_to_utc, utc_to_local_naive


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class EmailRequestForm(BaseForm):
    email = EmailField(_l("E-mail"), filters=[_strip],
                       validators=[DataRequired(message=_l("Enter your e-mail address.")),
                                   Email(message=_l("Enter a valid e-mail address.")),
                                   Length(max=254)])


class CodeForm(BaseForm):
    code = StringField(_l("Code from the e-mail"), filters=[_strip],
                       validators=[DataRequired(message=_l("Enter the six-digit code.")),
                                   Length(max=12)])


class CommentForm(BaseForm):
    author_name = StringField(_l("Your name"), filters=[_strip],
                              validators=[DataRequired(message=_l("Give your name.")),
                                          Length(max=NAME_MAX)])
    body = TextAreaField(_l("Comment"), filters=[_strip],
                         validators=[DataRequired(message=_l("Write your comment.")),
                                     Length(max=COMMENT_MAX)],
                         description=_l("Comments are published after moderation."))


class ReportForm(BaseForm):
    reason = StringField(_l("What is wrong with it? (optional)"), filters=[_strip],
                         validators=[Optional(), Length(max=500)])


KIND_LABELS = {StageKind.VOTE.value: _l("Public vote"),
               StageKind.DISCUSSION.value: _l("Public discussion")}
TIE_RULE_LABELS = {
    VoteTieRule.INCLUDE_ALL.value: _l("All entries tied at the cut advance"),
    VoteTieRule.EARLIER_SUBMISSION.value: _l("The entry submitted earlier advances"),
    VoteTieRule.ADMIN_CHOICE.value: _l("An administrator chooses among the tied entries"),
}


class StageForm(BaseForm):
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, v) for k, v in KIND_LABELS.items()])
    opens_at = LocalDateTimeField(
        _l("Opens at"), validators=[InputRequired(message=_l("Enter the opening date and time."))],
        description=_l("Local time in the call's time zone."))
    closes_at = LocalDateTimeField(
        _l("Closes at"),
        validators=[InputRequired(message=_l("Enter the closing date and time."))],
        description=_l("Local time in the call's time zone. Votes are accepted until this "
                       "moment."))
    advance_per_category = IntegerField(
        _l("Entries advancing per category"), default=10,
        validators=[InputRequired(message=_l("Enter a whole number.")),
                    NumberRange(min=1, max=1000)])
    tie_rule = SelectField(_l("Ties at the cut"),
                           choices=[SelectChoice(k, v) for k, v in TIE_RULE_LABELS.items()])
    votes_changeable = BooleanField(_l("Voters may change their vote until the close"),
                                    default=True)
    show_counts_to_jury = BooleanField(_l("Show the vote counts to the jury as information"),
                                       default=True)

    def __init__(self, *args, timezone: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone = timezone

    def values(self) -> dict[str, Any]:
        return {
            "kind": StageKind(self.kind.data),
            "opens_at": local_to_utc(self.opens_at.data, self.timezone),
            "closes_at": local_to_utc(self.closes_at.data, self.timezone),
            "advance_per_category": self.advance_per_category.data,
            "tie_rule": VoteTieRule(self.tie_rule.data),
            "votes_changeable": bool(self.votes_changeable.data),
            "show_counts_to_jury": bool(self.show_counts_to_jury.data),
        }

    @staticmethod
    def initial(stage, timezone: str) -> dict[str, Any]:
        return {"kind": str(stage.kind), "tie_rule": str(stage.tie_rule),
                "opens_at": utc_to_local_naive(stage.opens_at, timezone),
                "closes_at": utc_to_local_naive(stage.closes_at, timezone),
                "advance_per_category": stage.advance_per_category,
                "votes_changeable": stage.votes_changeable,
                "show_counts_to_jury": stage.show_counts_to_jury}


class ReasonForm(BaseForm):
    reason = TextAreaField(_l("Reason"), filters=[_strip],
                           validators=[DataRequired(message=_l("Give the reason.")),
                                       Length(max=REASON_MAX)])


class ModerateForm(BaseForm):
    decision = SelectField(_l("Decision"), choices=[SelectChoice("approve", _l("Publish")),
                                                     SelectChoice("reject", _l("Reject"))])
    reason = TextAreaField(_l("Reason"), filters=[_strip],
                           validators=[Optional(), Length(max=REASON_MAX)],
                           description=_l("Required when rejecting."))


class CloseForm(BaseForm):
    confirm = BooleanField(_l("I confirm: count the votes, publish the results and send the "
                              "advancing entries to the first jury round."),
                           validators=[DataRequired(message=_l("Tick the box to confirm."))])
