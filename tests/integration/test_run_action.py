"""The one pattern of an administrator's action (``awards.views_common.run_action``): a refused
service call leaves nothing behind and says why, with the refusal's status; an accepted one is
committed and flashed."""

from __future__ import annotations

from flask import get_flashed_messages
from sqlalchemy import select
from wtforms import StringField

from awards.calls.models import Programme
from awards.db import get_db
from awards.forms import BaseForm
from awards.refusals import Refusal
from awards.views_common import form_status, run_action, saved


class FrozenRefusal(Refusal):
    status = 409


def _create(slug: str, *, refuse: Refusal | None = None):
    def service():
        get_db().add(Programme(slug=slug))
        get_db().flush()  # written, not committed: the refusal must undo it
        if refuse is not None:
            raise refuse
        return slug
    return service


def _slugs(app) -> list[str]:
    with app.app_context():
        return list(get_db().scalars(select(Programme.slug).order_by(Programme.slug)))


class SlugForm(BaseForm):
    slug = StringField()


def test_an_accepted_call_is_committed_and_flashed(app):
    with app.test_request_context(method="POST"):
        done = run_action(_create("kept"), success=lambda slug: f"{slug} is created")
        assert (bool(done), done.value) == (True, "kept")
        assert get_flashed_messages(with_categories=True) == [("success", "kept is created")]
    assert _slugs(app) == ["kept"]


def test_a_refused_call_is_rolled_back_and_shown_at_the_top(app):
    with app.test_request_context(method="POST"):
        done = run_action(_create("gone", refuse=FrozenRefusal("The call is frozen.")),
                          success="never shown")
        assert (bool(done), done.status()) == (False, 409)
        assert get_flashed_messages(with_categories=True) == [("error", "The call is frozen.")]
    assert _slugs(app) == []


def test_a_refusal_about_a_field_goes_next_to_it_and_sets_the_page_status(app):
    with app.test_request_context(method="POST", data={"slug": "x"}):
        form = SlugForm(meta={"csrf": False})
        done = run_action(_create("gone", refuse=Refusal("Taken.", field="slug")), form=form)
        assert (bool(done), done.status(), form_status(form)) == (False, 400, 400)
        assert form.slug.errors == ["Taken."]
        assert get_flashed_messages() == []
    assert _slugs(app) == []


def test_a_phase_refusal_on_a_form_answers_with_its_own_status(app):
    with app.test_request_context(method="POST", data={"slug": "x"}):
        form = SlugForm(meta={"csrf": False})
        run_action(_create("gone", refuse=FrozenRefusal("Frozen.")), form=form)
        assert form_status(form) == 409


def test_an_edit_that_changed_nothing_says_so(app):
    with app.test_request_context(method="POST", headers={"Accept-Language": "en"}):
        run_action(lambda: False, success=saved("Saved."))
        run_action(lambda: True, success=saved("Saved."))
        assert get_flashed_messages() == ["Nothing was changed.", "Saved."]
