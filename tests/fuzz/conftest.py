"""The fuzz suite's site: built once per test module, on the database the run uses."""

from __future__ import annotations

import pytest

from awards import create_app
from tests.conftest import ON_POSTGRES, IsolatedClient, _empty_postgres
from tests.fuzz.site import build_site, close_site
from tests.module_database import module_database


@pytest.fixture(scope="module")
def site(tmp_path_factory, database_template, worker_id, cheap_password_hashing):
    if ON_POSTGRES:
        # The worker's migrated database of this run, emptied: a worker runs the tests of a
        # module one after the other, and the next test using it empties it again. Creating,
        # migrating and dropping a database of the module's own costs more than a third of
        # the attacks (the drop waits for a checkpoint).
        url, drop = database_template["url"], None
        _empty_postgres(url)
    else:
        url, drop = module_database(tmp_path_factory, database_template, worker_id, "fuzz")
    app = create_app({
        "TESTING": True, "ENV": "testing", "INSTANCE_PATH": str(tmp_path_factory.mktemp("fuzz")),
        "DATABASE_URL": url, "SECRET_KEY": "test-secret-key", "BASE_URL": "http://localhost",
        "RATELIMIT_ENABLED": False, "RATELIMIT_STORAGE_URI": "memory://",
        "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": 1, "MAIL_RETRY_BASE_SECONDS": 30,
    })
    app.test_client_class = IsolatedClient
    built = build_site(app)
    yield built
    close_site(built)
    if drop:
        drop()
