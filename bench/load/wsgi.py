"""What gunicorn serves in the load benchmarks: the site, plus ``/__bare`` answered by a bare
Flask app in the same worker processes. The bare endpoint is the ceiling the scenarios are
compared with: same server, same workers, same client, no sessions, templates or database."""

from __future__ import annotations

from flask import Flask

from awards import create_app

site = create_app()
bare = Flask("bare")


@bare.get("/__bare")
def ok() -> str:
    return "ok"


def app(environ, start_response):
    if environ.get("PATH_INFO") == "/__bare":
        return bare(environ, start_response)
    return site(environ, start_response)
