"""Administrator forms for a commission round: its rules (how the commission votes, the quorum
and the threshold, laureates per category) and its members. They turn the posted text into the
values ``awards.commission.services`` takes and never touch the database.

A share is typed as a fraction ("2/3"), a decimal ("0.5", "0,5") or a percentage ("50 %"): a
fraction is kept exactly, so six of nine members are two thirds."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import (
    DataRequired,
    Email,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from awards.commission.models import BallotMethod
from awards.commission.wording import share_number
from awards.forms import BaseForm
from awards.judging.commission import ThresholdBase

LANGS = ("kk", "ru", "en")
NEW_PANEL = 0

METHOD_LABELS = {
    BallotMethod.APPROVAL: _l("Yes, no or abstain on each entry"),
    BallotMethod.RANKED: _l("An order of preference in each category"),
}
THRESHOLD_BASE_LABELS = {
    ThresholdBase.CAST.value: _l("the yes and no votes (abstentions aside)"),
    ThresholdBase.VOTING.value: _l("the members who voted on the entry (abstentions count)"),
}
BOUND_LABELS = {"at_least": _l("at least"), "more_than": _l("more than")}


def parse_share(text: str | None) -> float | None:
    """"2/3", "0.6667", "0,5" or "50 %" as a fraction of 1; None when it is not a number."""
    text = "".join((text or "").split()).replace(",", ".")
    percent = text.endswith("%")
    text = text.rstrip("%")
    if not text or len(text) > 20:
        return None
    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError):
        return None
    return float(value / 100 if percent else value)


class ShareField(StringField):
    """A share of 1 (0 excluded, 1 included), typed as a fraction, decimal or percentage."""

    def pre_validate(self, form):
        value = parse_share(self.data)
        if value is None or not 0 < value <= 1:
            raise ValidationError(_l("Enter a share such as 2/3, 0.5 or 50 %."))


class RulesForm(BaseForm):
    method = SelectField(_l("How the commission votes"), default=BallotMethod.APPROVAL,
                         choices=[SelectChoice(k, v) for k, v in METHOD_LABELS.items()])
    quorum = ShareField(_l("Quorum: share of the members who must vote"), default="2/3",
                        validators=[DataRequired()],
                        description=_l("A fraction, a decimal or a percentage: 2/3, 0.5, 50 %."))
    quorum_bound = SelectField(_l("The quorum is met with"), default="at_least",
                               choices=[SelectChoice(k, v) for k, v in BOUND_LABELS.items()])
    threshold = ShareField(_l("Threshold: share of yes votes an entry needs"), default="1/2",
                           validators=[DataRequired()],
                           description=_l("For yes, no or abstain ballots."))
    threshold_bound = SelectField(_l("An entry passes with"), default="more_than",
                                  choices=[SelectChoice(k, v) for k, v in BOUND_LABELS.items()])
    threshold_base = SelectField(_l("The share of yes votes is counted over"), default="cast",
                                 choices=[SelectChoice(k, v)
                                          for k, v in THRESHOLD_BASE_LABELS.items()])

    @classmethod
    def with_categories(cls, categories):
        """The form with a "laureates" field per category (for ranked ballots)."""
        fields = {f"seats_{c.id}": IntegerField(
            _l("Laureates in “%(category)s”", category=label), default=1,
            validators=[Optional(), NumberRange(min=1, max=50)], render_kw={"min": 1})
            for c, label in categories}
        form_class = type(cls.__name__, (cls,), fields)
        form_class.seat_fields = tuple(fields)
        return form_class

    seat_fields: tuple[str, ...] = ()

    @staticmethod
    def initial_rules(box) -> dict[str, Any]:
        data = {"method": box.method, "quorum": share_number(box.quorum),
                "quorum_bound": "at_least" if box.quorum_inclusive else "more_than",
                "threshold": share_number(box.threshold),
                "threshold_bound": "at_least" if box.threshold_inclusive else "more_than",
                "threshold_base": box.threshold_base}
        for category_id, seats in (box.seats or {}).items():
            data[f"seats_{category_id}"] = seats
        return data

    def seats_fields(self):
        return [getattr(self, name) for name in self.seat_fields]

    def rules(self) -> dict[str, Any]:
        seats = {name.removeprefix("seats_"): int(getattr(self, name).data or 1)
                 for name in self.seat_fields}
        return {
            "method": self.method.data,
            "quorum": parse_share(self.quorum.data),
            "quorum_inclusive": self.quorum_bound.data == "at_least",
            "threshold": parse_share(self.threshold.data),
            "threshold_inclusive": self.threshold_bound.data == "at_least",
            "threshold_base": self.threshold_base.data,
            "seats": {k: v for k, v in seats.items() if v != 1},
        }


class NewRoundForm(RulesForm):
    name_kk = StringField(_l("Name (Kazakh)"), validators=[Optional(), Length(max=200)],
                          render_kw={"lang": "kk"})
    name_ru = StringField(_l("Name (Russian)"), validators=[Optional(), Length(max=200)],
                          render_kw={"lang": "ru"})
    name_en = StringField(_l("Name (English)"), validators=[Optional(), Length(max=200)],
                          render_kw={"lang": "en"})
    panel_id = SelectField(_l("The commission's members"), coerce=int, default=NEW_PANEL)

    def __init__(self, *args, panels=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.panel_id.choices = [SelectChoice(NEW_PANEL, _l("A new panel, invited next"))] + [
            SelectChoice(p.id, _l("The panel “%(name)s”", name=p.name)) for p in panels]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not any((getattr(self, f"name_{c}").data or "").strip() for c in LANGS):
            self.name_ru.errors.append(_l("Enter the name in at least one language."))
            ok = False
        return ok

    def names(self) -> dict[str, str]:
        return {c: (getattr(self, f"name_{c}").data or "").strip() for c in LANGS}

    def panel(self) -> int | None:
        return self.panel_id.data or None


class MemberForm(BaseForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)],
                       filters=[lambda v: v.strip() if isinstance(v, str) else v])
    is_chair = BooleanField(_l("Chairs the commission (opens and closes the ballot)"))
