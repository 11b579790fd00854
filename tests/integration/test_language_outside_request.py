"""A message made outside a request (a command, a scheduled job, a benchmark's publication)
reads in the site's default language instead of failing for want of a request."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from awards.results.common import PhaseRefused


def test_a_refusal_raised_by_a_command_reads_in_the_default_language(app):
    with app.app_context():
        refusal = PhaseRefused(_l("Only administrators may do this."), status=403)
        assert str(refusal) == "Это может сделать только администратор."
