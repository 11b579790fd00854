"""The protocol of the commission's meeting as a PDF (A4 portrait, one section per language):
the members present (who voted, never how), the quorum, the totals per entry or the count per
category, and the outcome. Drawn with fpdf2 and the DejaVu fonts that ship with the results
package, so Kazakh letters need no system font."""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _
from fpdf import FPDF
from sqlalchemy import select
from sqlalchemy.orm import Session

from awards.auth.models import User
from awards.calls.models import Category
from awards.commission import services
from awards.commission.wording import quorum_present, share_number
from awards.i18n import format_datetime, localized, timezone_words
from awards.judging.commission import ApprovalCount, RankedCount
from awards.judging.votes import VoteOutcome
from awards.jury.models import Round
from awards.results.certificates import FONT_DIR, FONTS


def _outcome_text(outcome: VoteOutcome) -> str:
    return {
        VoteOutcome.PASSED: _("passed"),
        VoteOutcome.QUORUM_NOT_MET: _("no quorum"),
        VoteOutcome.NO_DECISIVE_VOTES: _("everyone abstained"),
        VoteOutcome.THRESHOLD_NOT_REACHED: _("not passed"),
    }[VoteOutcome(outcome)]


class _Protocol(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.set_margins(18, 18, 18)
        self.set_auto_page_break(True, 18)
        for (family, style), name in FONTS.items():
            self.add_font(family, style, str(FONT_DIR / name))

    def para(self, text: str, *, size: float = 10.5, style: str = "", gap: float = 1.5) -> None:
        self.set_font("sans", style, size)
        self.multi_cell(0, size * 0.48, text, new_x="LMARGIN", new_y="NEXT")
        self.ln(gap)

    def row(self, cells: list[str], widths: list[float], *, bold: bool = False) -> None:
        self.set_font("sans", "B" if bold else "", 9.5)
        for text, width in zip(cells, widths, strict=True):
            self.cell(width, 6.5, text, border=1)
        self.ln(6.5)


def render_protocol_pdf(*, session: Session, round: Round, count: ApprovalCount | RankedCount,
                        languages: list[str]) -> bytes:
    """Needs an app context (translations). ``count`` comes from ``services.see_count``."""
    call = round.call
    box = services.box_of(session, round)
    voted = set(services.participants(session, box))
    members = list(session.scalars(select(User).where(User.id.in_(box.member_ids or [-1]))
                                   .order_by(User.full_name, User.email)))
    entries = {e.id: e for e in services.entries_of(session, round)}
    chosen, undecided = services.laureates(session, round, count)
    pdf = _Protocol()
    pdf.set_title(f"Protocol: {call.title_en or call.title_ru}")
    pdf.set_creator("Awards")
    for language in languages:
        pdf.add_page()
        pdf.set_lang(language)
        with force_locale(language):
            tz = call.tz
            when = format_datetime(box.closed_at, tz=tz, locale=language)
            opened = format_datetime(box.opened_at, tz=tz, locale=language)
            pdf.para(localized(call, "title", language), size=14, style="B")
            pdf.para(_("Protocol of the commission's secret ballot"), size=12, style="B")
            pdf.para(localized(round, "name", language))
            pdf.para(_("Ballot opened %(opened)s, closed %(closed)s (%(zone)s).",
                       opened=opened, closed=when, zone=timezone_words(tz, locale=language)))
            pdf.ln(2)
            pdf.para(_("Members of the commission: %(n)d. Took part in the vote: %(v)d.",
                       n=len(members), v=len(voted)), style="B")
            for user in members:
                mark = _("voted") if user.id in voted else _("did not vote")
                pdf.para(f"• {user.full_name or user.email} — {mark}", size=9.5, gap=0.3)
            pdf.ln(2)
            q = count.quorum
            pdf.para(" ".join((
                quorum_present(present=q.ballots, members=q.members, quorum=box.quorum,
                               inclusive=q.inclusive),
                _("The quorum was reached.") if q.met
                else _("The quorum was not reached: the ballot decides nothing."))))
            pdf.ln(2)
            if isinstance(count, ApprovalCount):
                base = (_("of the votes cast (yes and no)") if box.threshold_base == "cast"
                        else _("of the members voting on the entry"))
                rule = (_("An entry passes with at least %(share)s of yes votes %(base)s.")
                        if box.threshold_inclusive else
                        _("An entry passes with more than %(share)s of yes votes %(base)s."))
                pdf.para(rule % {"share": share_number(box.threshold), "base": base})
                widths = [44, 60, 14, 14, 18, 24]
                pdf.row([_("Entry"), _("Category"), _("Yes"), _("No"), _("Abstain"),
                         _("Outcome")], widths, bold=True)
                for e in count.entries:
                    entry = entries[e.entry_id]
                    pdf.row([entry.reference or str(entry.id),
                             localized(entry.category, "name", language)[:34],
                             str(e.yes), str(e.no), str(e.abstain), _outcome_text(e.outcome)],
                            widths)
            else:
                for c in count.categories:
                    category = session.get(Category, c.category_id)
                    method = (_("Schulze method") if c.method == "schulze"
                              else _("single transferable vote"))
                    pdf.para(_("%(category)s: %(seats)d laureate(s), %(ballots)d ballots, "
                               "counted by the %(method)s.",
                               category=localized(category, "name", language), seats=c.seats,
                               ballots=c.ballots, method=method), style="B")
                    if c.schulze is not None:
                        for rank, group in enumerate(c.schulze.order, start=1):
                            names = ", ".join(entries[n].reference or str(n) for n in group)
                            pdf.para(f"{rank}. {names}", size=9.5, gap=0.3)
                    if c.stv is not None and c.stv.rounds:
                        last = c.stv.rounds[-1]
                        for n, votes in last.votes:
                            pdf.para(f"{entries[n].reference or n}: {votes:g}", size=9.5,
                                     gap=0.3)
            pdf.ln(3)
            pdf.para(_("Outcome"), size=12, style="B")
            if not q.met:
                pdf.para(_("No decision: the quorum was not reached."))
            for _category_id, ids in sorted(chosen.items()):
                for nid in ids:
                    entry = entries[nid]
                    pdf.para(_("Laureate in “%(category)s”: %(entry)s",
                               category=localized(entry.category, "name", language),
                               entry=" — ".join(x for x in (entry.reference,
                                                            entry.nominee_name) if x)))
            for category_id in undecided:
                names = [e for e in entries.values() if e.category_id == category_id]
                if names:
                    pdf.para(_("“%(category)s”: the ballot leaves a tie; the commission "
                               "decides.", category=localized(names[0].category, "name",
                                                              language)))
            pdf.ln(4)
            pdf.para(_("The ballots were secret: this protocol and the published ballot list "
                       "record who took part, never how anyone voted."), size=8.5)
            pdf.ln(10)
            pdf.para(_("Chair of the commission: ____________________"), size=10)
    return bytes(pdf.output())
