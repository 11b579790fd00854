"""`make run` serves on HOST:PORT and tells the app so: the links in e-mails and on diplomas
point where the site really is (`PORT=8080 make run`), unless the address is set elsewhere."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from awards import create_app

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def _flask_run_line(tmp_path: Path, *args: str, **env: str) -> str:
    """The command `make run` would start the server with (make -n runs nothing)."""
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith("AWARDS_") and k not in ("HOST", "PORT", "MAKEFLAGS")}
    clean["AWARDS_INSTANCE_PATH"] = str(tmp_path)
    out = subprocess.run(["make", "-n", "run", *args], cwd=ROOT, env={**clean, **env},
                         capture_output=True, text=True, check=True).stdout
    return next(line for line in out.splitlines() if " run --host " in line)


def _base_url_of(line: str, tmp_path: Path, monkeypatch) -> str:
    """The BASE_URL the app started by that line reads (its environment, then the config)."""
    for key in [k for k in os.environ if k.startswith("AWARDS_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("AWARDS_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("AWARDS_SECRET_KEY", "x" * 32)
    monkeypatch.setenv("AWARDS_DATABASE_URL", f"sqlite:///{tmp_path / 'awards.db'}")
    for word in shlex.split(line):
        name, sep, value = word.partition("=")
        if not sep or not name.isidentifier():
            break
        monkeypatch.setenv(name, value)
    return create_app().config["BASE_URL"]


def test_port_8080_gives_links_on_port_8080(tmp_path, monkeypatch):
    line = _flask_run_line(tmp_path, "PORT=8080")
    assert "--port 8080" in line
    assert _base_url_of(line, tmp_path, monkeypatch) == "http://127.0.0.1:8080"


def test_host_and_port_from_the_environment(tmp_path, monkeypatch):
    line = _flask_run_line(tmp_path, HOST="0.0.0.0", PORT="9000")
    assert _base_url_of(line, tmp_path, monkeypatch) == "http://0.0.0.0:9000"


def test_a_base_url_the_user_set_is_kept(tmp_path, monkeypatch):
    line = _flask_run_line(tmp_path, "PORT=8080", AWARDS_BASE_URL="https://awards.example.org")
    assert _base_url_of(line, tmp_path, monkeypatch) == "https://awards.example.org"


def test_the_instance_configs_base_url_is_not_overridden(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text('BASE_URL = "https://prizes.example.kz"\n')
    line = _flask_run_line(tmp_path, "PORT=8080")
    assert "AWARDS_BASE_URL" not in line
    assert _base_url_of(line, tmp_path, monkeypatch) == "https://prizes.example.kz"
