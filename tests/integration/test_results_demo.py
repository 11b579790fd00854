"""The demo's past edition: its results page, the archive and the gallery work out of the box."""

from __future__ import annotations

from sqlalchemy import func, select

from awards.demo import seed_demo
from awards.results.demo import SLUG
from awards.results.models import Certificate, Publication
from tests.factories import english


def test_demo_results_are_published_once(db):
    assert seed_demo(db) is True
    db.commit()
    assert seed_demo(db) is False
    db.commit()
    assert db.scalar(select(func.count()).select_from(Publication)) == 1
    assert db.scalar(select(func.count()).select_from(Certificate)) == 4


def test_demo_results_page_archive_and_gallery(app, client, db):
    seed_demo(db)
    db.commit()
    english(client)
    page = client.get(f"/results/{SLUG}").get_data(as_text=True)
    assert "For cleaning 40 kilometres of the Ili river bank." in page
    assert "Таза Іле" in page
    assert f'href="/results/{SLUG}"' in client.get("/results/").get_data(as_text=True)
    gallery = client.get("/results/gallery").get_data(as_text=True)
    assert f'href="/results/{SLUG}/' in gallery  # each card opens its winner's page
