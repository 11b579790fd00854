"""Jury administration: rounds and rubrics, the entries of a round, panels and invitations,
conflicts of interest, assignments (by hand and automatic), progress and reminders.

One blueprint (``bp``, in ``common``) whose routes live in one module per concern:
``rounds``, ``assignments``, ``panels``. Views stay thin: a form validates the input, one
service call in ``awards.jury.setup`` applies it (and audits) through ``run_action``, which
commits or rolls back and flashes; the view redirects or re-renders. Everything here is for
administrators except the invitation link, which a juror opens from an e-mail."""

from awards.jury.admin_views import assignments, panels, rounds  # noqa: F401  (they add routes)
from awards.jury.admin_views.common import PUBLIC_ENDPOINTS, bp

__all__ = ["PUBLIC_ENDPOINTS", "bp"]
