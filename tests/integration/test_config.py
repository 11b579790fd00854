import os
import stat

import pytest

from awards import create_app
from awards.config import DEFAULTS, ConfigError


@pytest.fixture
def env(monkeypatch, tmp_path):
    """A clean environment whose instance folder is a temporary directory."""
    for key in list(os.environ):
        if key.startswith("AWARDS_"):
            monkeypatch.delenv(key)
    instance = tmp_path / "inst"
    monkeypatch.setenv("AWARDS_INSTANCE_PATH", str(instance))
    return instance


def test_defaults_apply_without_file_or_environment(env):
    app = create_app()
    assert app.instance_path == str(env)
    assert app.config["ENV"] == "development"
    assert app.config["DATABASE_URL"] == f"sqlite:///{env / 'awards.db'}"
    assert app.config["UPLOAD_FOLDER"] == str(env / "uploads")
    assert (env / "uploads").is_dir()
    assert app.config["MAIL_PORT"] == DEFAULTS["MAIL_PORT"]
    assert app.config["MAX_CONTENT_LENGTH"] == DEFAULTS["MAX_CONTENT_LENGTH"]
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_development_secret_key_is_generated_once_and_kept(env):
    first = create_app().config["SECRET_KEY"]
    key_file = env / "secret_key"
    assert len(first) == 64
    assert key_file.read_text().strip() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert create_app().config["SECRET_KEY"] == first
    # Nothing else: no temporary key file left behind (page-cache: development's page cache).
    assert sorted(p.name for p in env.iterdir()) == ["page-cache", "secret_key", "uploads"]


def test_instance_config_file_overrides_defaults(env):
    env.mkdir()
    (env / "config.py").write_text(
        'MAIL_SERVER = "smtp.file.example"\nMAIL_PORT = 2525\nSECRET_KEY = "from-file"\n'
        'IGNORED_lowercase = 1\n'
    )
    app = create_app()
    assert app.config["MAIL_SERVER"] == "smtp.file.example"
    assert app.config["MAIL_PORT"] == 2525
    assert app.config["SECRET_KEY"] == "from-file"
    assert "IGNORED_lowercase" not in app.config
    assert not (env / "secret_key").exists()


def test_environment_overrides_instance_file(env, monkeypatch):
    env.mkdir()
    (env / "config.py").write_text('MAIL_SERVER = "smtp.file.example"\nMAIL_PORT = 2525\n')
    monkeypatch.setenv("AWARDS_MAIL_SERVER", "smtp.env.example")
    app = create_app()
    assert app.config["MAIL_SERVER"] == "smtp.env.example"
    assert app.config["MAIL_PORT"] == 2525


def test_environment_variables_are_read_with_their_types(env, monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'other.db'}"
    monkeypatch.setenv("AWARDS_DATABASE_URL", url)
    monkeypatch.setenv("AWARDS_SECRET_KEY", "from-env")
    monkeypatch.setenv("AWARDS_MAIL_SERVER", "mail.example.kz")
    monkeypatch.setenv("AWARDS_MAIL_PORT", "587")
    monkeypatch.setenv("AWARDS_MAIL_USE_TLS", "true")
    monkeypatch.setenv("AWARDS_MAIL_USE_SSL", "0")
    monkeypatch.setenv("AWARDS_MAIL_USERNAME", "mailer")
    monkeypatch.setenv("AWARDS_MAIL_DEFAULT_SENDER", "Премия <noreply@example.kz>")
    monkeypatch.setenv("AWARDS_UPLOAD_MAX_BYTES", "1048576")
    monkeypatch.setenv("AWARDS_MAX_CONTENT_LENGTH", "2097152")
    monkeypatch.setenv("AWARDS_UPLOAD_FOLDER", str(tmp_path / "files"))
    monkeypatch.setenv("AWARDS_LANGUAGES", "kk, ru")
    app = create_app()
    assert app.config["DATABASE_URL"] == url
    assert app.extensions["awards_db"]["engine"].url.database == str(tmp_path / "other.db")
    assert app.config["SECRET_KEY"] == "from-env"
    assert app.config["MAIL_SERVER"] == "mail.example.kz"
    assert app.config["MAIL_PORT"] == 587
    assert app.config["MAIL_USE_TLS"] is True
    assert app.config["MAIL_USE_SSL"] is False
    assert app.config["MAIL_USERNAME"] == "mailer"
    assert app.config["MAIL_DEFAULT_SENDER"] == "Премия <noreply@example.kz>"
    assert app.config["UPLOAD_MAX_BYTES"] == 1048576
    assert app.config["MAX_CONTENT_LENGTH"] == 2097152
    assert app.config["UPLOAD_FOLDER"] == str(tmp_path / "files")
    assert (tmp_path / "files").is_dir()
    assert app.config["LANGUAGES"] == ["kk", "ru"]
    assert not (env / "secret_key").exists()


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("AWARDS_MAIL_PORT", "twenty-five", "AWARDS_MAIL_PORT must be a whole number"),
        ("AWARDS_MAIL_USE_TLS", "maybe", "AWARDS_MAIL_USE_TLS must be true or false"),
        ("AWARDS_ENV", "prod", "AWARDS_ENV must be one of development, testing, production"),
    ],
)
def test_malformed_environment_value_is_a_start_up_error(env, monkeypatch, name, raw, expected):
    monkeypatch.setenv(name, raw)
    with pytest.raises(ConfigError) as excinfo:
        create_app()
    assert str(excinfo.value).startswith(expected)


def test_production_without_secret_key_refuses_to_start(env, monkeypatch):
    monkeypatch.setenv("AWARDS_ENV", "production")
    with pytest.raises(ConfigError) as excinfo:
        create_app()
    assert "AWARDS_SECRET_KEY" in str(excinfo.value)
    assert not (env / "secret_key").exists()


def test_production_ignores_a_generated_development_key(env, monkeypatch):
    create_app()
    assert (env / "secret_key").exists()
    monkeypatch.setenv("AWARDS_ENV", "production")
    with pytest.raises(ConfigError):
        create_app()


def test_production_with_secret_key_uses_secure_cookies(env, monkeypatch):
    monkeypatch.setenv("AWARDS_ENV", "production")
    monkeypatch.setenv("AWARDS_SECRET_KEY", "a-production-secret")
    monkeypatch.setenv("AWARDS_SESSION_COOKIE_SECURE", "false")
    app = create_app()
    assert app.config["SECRET_KEY"] == "a-production-secret"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_test_config_replaces_file_and_environment(env, monkeypatch, tmp_path):
    env.mkdir()
    (env / "config.py").write_text('MAIL_SERVER = "smtp.file.example"\n')
    monkeypatch.setenv("AWARDS_MAIL_SERVER", "smtp.env.example")
    monkeypatch.setenv("AWARDS_ENV", "production")
    other = tmp_path / "test-instance"
    app = create_app({"INSTANCE_PATH": str(other), "SECRET_KEY": "k"})
    assert app.instance_path == str(other)
    assert app.config["MAIL_SERVER"] == DEFAULTS["MAIL_SERVER"]
    assert app.config["ENV"] == "development"
