"""Links in e-mails and on diplomas point to the server that runs: without an explicit
BASE_URL it is http://HOST:PORT of `flask run` (`PORT=8080 make run` serves on 8080, so the
links say 8080, not 5000)."""

from __future__ import annotations

import os

import pytest

from awards import create_app
from awards.config import ConfigError
from awards.urls import external_url


@pytest.fixture
def env(monkeypatch, tmp_path):
    for key in list(os.environ):
        if key.startswith(("AWARDS_", "FLASK_RUN_")) or key in ("HOST", "PORT"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("AWARDS_INSTANCE_PATH", str(tmp_path / "inst"))
    return monkeypatch


def link_of(app) -> str:
    with app.test_request_context():
        return external_url("calls.index")


def test_without_settings_links_point_to_the_default_server(env):
    assert link_of(create_app()) == "http://127.0.0.1:5000/calls/"


def test_the_port_make_run_serves_on_is_the_port_of_the_links(env):
    env.setenv("PORT", "8080")
    assert link_of(create_app()) == "http://127.0.0.1:8080/calls/"
    env.setenv("HOST", "0.0.0.0")  # every address: this machine's is 127.0.0.1
    assert create_app().config["BASE_URL"] == "http://127.0.0.1:8080"
    env.setenv("FLASK_RUN_HOST", "awards.test")
    env.setenv("FLASK_RUN_PORT", "9000")
    assert create_app().config["BASE_URL"] == "http://awards.test:9000"
    env.setenv("AWARDS_PORT", "7000")
    assert create_app().config["BASE_URL"] == "http://awards.test:7000"


def test_an_explicit_base_url_wins(env):
    env.setenv("PORT", "8080")
    env.setenv("AWARDS_BASE_URL", "https://awards.example.kz")
    assert link_of(create_app()) == "https://awards.example.kz/calls/"


def test_the_instance_file_can_set_the_port(env, tmp_path):
    (tmp_path / "inst").mkdir()
    (tmp_path / "inst" / "config.py").write_text('PORT = 8443\nHOST = "::1"\n')
    assert create_app().config["BASE_URL"] == "http://[::1]:8443"


@pytest.mark.parametrize("port", ["80a", "8²", "٨٠٨٠", "0", "70000"])
def test_a_port_that_is_no_port_is_refused_at_start(env, port):
    env.setenv("PORT", port)  # "8²" passes str.isdigit() and then fails int(): a traceback
    with pytest.raises(ConfigError, match="port"):
        create_app()


def test_a_test_configuration_ignores_the_environment(env, tmp_path):
    env.setenv("PORT", "8080")
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "PORT": 6000,
                      "INSTANCE_PATH": str(tmp_path / "t"),
                      "DATABASE_URL": f"sqlite:///{tmp_path / 't.db'}"})
    assert app.config["BASE_URL"] == "http://127.0.0.1:6000"
