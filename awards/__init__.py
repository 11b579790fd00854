"""awards: prize competitions end to end."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    from awards.config import load_config, resolve_instance_path

    app = Flask(
        __name__,
        instance_path=resolve_instance_path(test_config, ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder="static",
    )
    load_config(app, test_config)
    register_extensions(app)
    register_blueprints(app)
    register_errors(app)
    register_security(app)
    register_templates(app)
    register_cli(app)
    from awards import cache_front

    # Around Flask's own application, inside the proxy settings (the page's address is the
    # visitor's) and the metrics (a page from the cache is timed and counted too).
    cache_front.install(app)
    if app.config.get("PROXY_COUNT"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Behind N trusted proxies: real client addresses for rate limits and the audit log.
        n = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    register_metrics(app)
    return app


def register_extensions(app: Flask) -> None:
    from awards import db, models  # noqa: F401  (models registers every table on Base)
    from awards.extensions import babel, limiter, login_manager
    from awards.i18n import select_locale

    db.init_app(app)
    from awards import sessions

    sessions.register(app)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES",
                          str(Path(__file__).parent / "translations"))
    babel.init_app(app, locale_selector=select_locale)
    # No X-RateLimit-* headers: they cost two more storage round trips on every limited request
    # (a third of a public vote's time with the limits in Redis); a refusal still says when to
    # come back in Retry-After (awards.extensions.retry_after).
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    limiter.init_app(app)
    login_manager.init_app(app)
    from awards.auth import services as auth_services

    auth_services.init_login_manager(login_manager)
    from awards import cache, http_cache

    # Before the blueprints and headers, so its after_request runs after theirs: an answer is
    # private unless its view said otherwise.
    http_cache.register(app)
    cache.init_app(app)


def register_blueprints(app: Flask) -> None:
    from awards.admin.views import bp as admin_bp
    from awards.announcements.admin_views import bp as announcements_admin_bp
    from awards.announcements.views import bp as announcements_bp
    from awards.api.token_views import bp as api_tokens_bp
    from awards.api.views import bp as api_bp
    from awards.audit_feed import bp as audit_bp
    from awards.auth.views import bp as auth_bp
    from awards.calls.views import bp as calls_bp
    from awards.commission.admin_views import bp as commission_admin_bp
    from awards.commission.views import bp as commission_bp
    from awards.jury.admin_views import bp as jury_admin_bp
    from awards.jury.views import bp as jury_bp
    from awards.main.views import bp as main_bp
    from awards.nominations.author_views import bp as authors_bp
    from awards.nominations.views import bp as nominations_bp
    from awards.privacy.views import bp as privacy_bp
    from awards.public_stage.admin_views import bp as public_stage_admin_bp
    from awards.public_stage.views import bp as public_stage_bp
    from awards.ranking.views import bp as ranking_bp
    from awards.results.admin_views import bp as results_admin_bp
    from awards.results.certificate_views import bp as certificates_bp
    from awards.results.views import bp as results_bp
    from awards.screening.views import bp as screening_bp

    for blueprint in (main_bp, auth_bp, calls_bp, nominations_bp, privacy_bp, jury_bp, admin_bp,
                      screening_bp, jury_admin_bp, ranking_bp, results_bp, results_admin_bp,
                      announcements_bp, announcements_admin_bp, public_stage_bp,
                      public_stage_admin_bp, api_bp, certificates_bp, api_tokens_bp, audit_bp,
                      commission_bp, commission_admin_bp, authors_bp):
        app.register_blueprint(blueprint)


def register_errors(app: Flask) -> None:
    from awards.errors import register

    register(app)


def register_security(app: Flask) -> None:
    from awards import boundary
    from awards.security import register

    register(app)
    boundary.register(app)


def register_templates(app: Flask) -> None:
    from awards.templating import register

    register(app)


def register_metrics(app: Flask) -> None:
    # Last: its middleware wraps everything else, ProxyFix included, to time whole requests.
    from awards import metrics

    metrics.register(app)


def register_cli(app: Flask) -> None:
    from awards.cli import awards_cli

    app.cli.add_command(awards_cli)
