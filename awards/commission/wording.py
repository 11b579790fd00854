"""The commission's rules in words, exactly as they were set: "two thirds of 9 members = 6",
"more than 1/2 of yes votes", never a rounded percentage. Shared by the chair's page, the
administrators' page and the protocol (which renders each of its languages in turn, so every
text is translated when it is called)."""

from __future__ import annotations

from fractions import Fraction

from babel.numbers import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from awards.i18n import FORMAT_LOCALES, _language
from awards.judging.commission import quorum_needed, quorum_share

# Common shares by name: the quorum "two thirds" as the statutes say it. A phrase with "more
# than" is its own text, so each language can decline the fraction after it.
SHARE_NAMES = {
    Fraction(1, 2): _l("one half"),
    Fraction(1, 3): _l("one third"),
    Fraction(2, 3): _l("two thirds"),
    Fraction(1, 4): _l("one quarter"),
    Fraction(3, 4): _l("three quarters"),
    Fraction(1, 1): _l("all"),
}
MORE_THAN_NAMES = {
    Fraction(1, 2): _l("more than one half"),
    Fraction(1, 3): _l("more than one third"),
    Fraction(2, 3): _l("more than two thirds"),
    Fraction(1, 4): _l("more than one quarter"),
    Fraction(3, 4): _l("more than three quarters"),
}


def share_number(value: float | None, locale=None) -> str:
    """A share as a number, exactly: "1/2", "3/5" (denominators up to 12), else a percentage
    with the decimals it has, written the language's way ("55.5 %", "55,5 %"). The rules form
    shows a share this way too (it reads back every one of them); None is an empty field."""
    if value is None:
        return ""
    exact = quorum_share(value)
    simple = exact.limit_denominator(12)
    if simple == exact and simple.denominator != 1:
        return f"{simple.numerator}/{simple.denominator}"
    language = _language(locale)
    percent = format_decimal(float(exact) * 100, "0.####",
                             locale=FORMAT_LOCALES.get(language, language))
    return f"{percent} %"


def share_words(value: float, *, inclusive: bool = True) -> str:
    """The quorum's share: its name when it has one ("two thirds", "more than one half"), else
    the number ("3/5", "more than 55.5 %")."""
    exact = quorum_share(value)
    names = SHARE_NAMES if inclusive else MORE_THAN_NAMES
    if exact in names:
        return str(names[exact])
    if inclusive:
        return share_number(value)
    return _("more than %(share)s", share=share_number(value))


def quorum_rule(*, members: int, quorum: float, inclusive: bool) -> str:
    """ "Quorum: two thirds of 9 members = 6." """
    if members < 1:
        return _("Quorum: %(share)s of the members.",
                 share=share_words(quorum, inclusive=inclusive))
    return _("Quorum: %(share)s of %(members)d members = %(needed)d.",
             share=share_words(quorum, inclusive=inclusive), members=members,
             needed=quorum_needed(members=members, quorum=quorum, inclusive=inclusive))


def quorum_present(*, present: int, members: int, quorum: float, inclusive: bool) -> str:
    """ "6 of 9 members present; quorum: two thirds = 6." """
    return _("%(present)d of %(members)d members present; quorum: %(share)s = %(needed)d.",
             present=present, members=members, share=share_words(quorum, inclusive=inclusive),
             needed=quorum_needed(members=members, quorum=quorum, inclusive=inclusive))
