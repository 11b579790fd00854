"""Prometheus metrics at ``/metrics``: request latency per endpoint, page-cache hits and misses,
public votes counted and refused, and the mail queue.

Off unless ``METRICS_TOKEN`` is set (``AWARDS_METRICS_TOKEN``): then nothing is measured and
``/metrics`` answers 404. With a token, ``/metrics`` answers only a request that carries it
(``Authorization: Bearer <token>``), and 404 to any other, so the public site does not show that
it exists.

Several gunicorn workers: set ``PROMETHEUS_MULTIPROC_DIR`` to an empty folder (emptied at each
start; ``deploy/gunicorn.conf.py`` does this) before the workers start. Each worker then writes
its counts to its own file there, and a scrape answered by any worker adds them all up
(prometheus_client's multiprocess mode). Without it, each worker counts alone and a scrape sees
only the worker that answered it.

The mail queue is read from the database at each scrape (one grouped count on the outbox), so it
is the same whichever worker answers and needs no process to keep it up to date.

Other parts of the site count through the module functions (``cache_hit``, ``cache_miss``,
``vote_outcome``): they do nothing when metrics are off."""

from __future__ import annotations

import hmac
import logging
import os
from pathlib import Path
from time import perf_counter

from flask import Flask, Response, abort, current_app, has_app_context, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import case, func, select
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

EXTENSION = "awards_metrics"
ENDPOINT_KEY = "awards.endpoint"
# Seconds; a page of this site takes a few milliseconds to a few hundred, an export seconds.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
VOTE_ENDPOINT = "public_stage.vote"
# Why a vote was refused, by the status of the answer (the vote view's refusals, in order of
# the checks: rate limit, unknown call or entry, expired form, unverified voter, the stage's
# rules such as "closed" or "already voted in this category").
VOTE_REFUSALS = {400: "form_expired", 401: "unverified", 403: "forbidden", 404: "not_found",
                 409: "stage_rule", 429: "rate_limited"}


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class Metrics:
    """The metric objects of one application. In multiprocess mode their values live in the
    worker's file; otherwise in ``registry``, which ``/metrics`` reads."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Histogram(
            "awards_request_duration_seconds",
            "Time from receiving a request to the answer being ready (its whole body, unless "
            "streamed), by Flask endpoint, method and status.",
            ["endpoint", "method", "status"], buckets=BUCKETS, registry=self.registry)
        self.cache_hits = Counter(
            "awards_cache_hits", "Lookups answered from the cache.", ["cache"],
            registry=self.registry)
        self.cache_misses = Counter(
            "awards_cache_misses", "Lookups the cache could not answer (the page was built).",
            ["cache"], registry=self.registry)
        self.votes = Counter(
            "awards_public_votes",
            "Public votes: outcome cast/changed/unchanged (or accepted when the view did not "
            "say which), or refused with the reason.",
            ["outcome", "reason"], registry=self.registry)

    def observe(self, environ: dict, status: str, started: float) -> None:
        endpoint = environ.get(ENDPOINT_KEY) or "unmatched"
        method = environ.get("REQUEST_METHOD", "")
        code = status[:3]
        self.requests.labels(endpoint, method, code).observe(perf_counter() - started)
        if endpoint == VOTE_ENDPOINT and method == "POST":
            self._vote(environ, int(code))

    def _vote(self, environ: dict, code: int) -> None:
        outcome = environ.get("awards.vote_outcome")
        if code >= 400:
            self.votes.labels("refused", VOTE_REFUSALS.get(code, str(code))).inc()
        elif code in (302, 303) and environ.get("awards.vote_redirect", "").find("/verify") >= 0:
            self.votes.labels("refused", "unverified").inc()
        else:
            self.votes.labels(outcome or "accepted", "").inc()


class _Middleware:
    """Times each request around the whole application (session, locale, hooks, view,
    template), and counts it under the endpoint Flask matched."""

    def __init__(self, wsgi_app, metrics: Metrics) -> None:
        self.wsgi_app = wsgi_app
        self.metrics = metrics

    def __call__(self, environ, start_response):
        started = perf_counter()
        seen: list[str] = []

        def _start_response(status, headers, exc_info=None):
            seen.append(status)
            if status[:3] in ("302", "303"):
                for name, value in headers:
                    if name.lower() == "location":
                        environ["awards.vote_redirect"] = value
            return start_response(status, headers, exc_info)

        try:
            body = self.wsgi_app(environ, _start_response)
        except BaseException:
            self.metrics.observe(environ, "500", started)
            raise
        self.metrics.observe(environ, seen[0] if seen else "500", started)
        return body


def _metrics() -> Metrics | None:
    if not has_app_context():
        return None
    return current_app.extensions.get(EXTENSION)


def cache_hit(cache: str = "page") -> None:
    """Count a lookup answered from ``cache``; nothing when metrics are off."""
    metrics = _metrics()
    if metrics is not None:
        metrics.cache_hits.labels(cache).inc()


def cache_miss(cache: str = "page") -> None:
    """Count a lookup ``cache`` could not answer; nothing when metrics are off."""
    metrics = _metrics()
    if metrics is not None:
        metrics.cache_misses.labels(cache).inc()


def count_front_hit(app: Flask, environ: dict, endpoint: str, cache: str = "page") -> None:
    """A page answered by the page cache's front, before Flask: a hit, and the request is
    timed under the page's endpoint as the application would have named it."""
    metrics = app.extensions.get(EXTENSION)
    if metrics is not None:
        environ[ENDPOINT_KEY] = endpoint
        metrics.cache_hits.labels(cache).inc()


def vote_outcome(outcome: str) -> None:
    """What a vote that was not refused did: ``cast``, ``changed`` or ``unchanged`` (else it is
    counted as ``accepted``). Refusals are counted from the answer's status."""
    if has_app_context() and EXTENSION in current_app.extensions:
        request.environ["awards.vote_outcome"] = outcome


class MailQueueCollector:
    """The outbox as it is at the scrape: messages not yet sent by status, how many of them
    are due (waiting for the mail worker, not scheduled for later such as results e-mails
    held until the publication time), and how long the oldest due one has waited."""

    def __init__(self, session, now) -> None:
        self.session, self.now = session, now

    def collect(self):
        from awards.mail import FAILED, PENDING, SENDING, OutgoingMail

        due = OutgoingMail.next_attempt_at <= self.now
        readable = GaugeMetricFamily("awards_mail_queue_up",
                                     "1 if the outbox could be read for this scrape, else 0.")
        try:
            rows = self.session.execute(
                select(OutgoingMail.status, func.count(),
                       func.count(case((due, 1))),
                       func.min(case((due, OutgoingMail.created_at))))
                .where(OutgoingMail.status.in_((PENDING, SENDING, FAILED)))
                .group_by(OutgoingMail.status)).all()
        except SQLAlchemyError:
            # The request metrics are still worth having while the database is away.
            log.warning("metrics: the outbox could not be read", exc_info=True)
            self.session.rollback()
            readable.add_metric([], 0)
            yield readable
            return
        readable.add_metric([], 1)
        yield readable
        by_status = {status: (total, n_due, oldest) for status, total, n_due, oldest in rows}
        queued = GaugeMetricFamily("awards_mail_queue_messages",
                                   "E-mails in the outbox not sent yet, by status.",
                                   labels=["status"])
        waiting = GaugeMetricFamily("awards_mail_queue_due_messages",
                                    "E-mails whose time to be sent has come, by status.",
                                    labels=["status"])
        for status in (PENDING, SENDING, FAILED):
            total, n_due, _oldest = by_status.get(status, (0, 0, None))
            queued.add_metric([status], total)
            waiting.add_metric([status], n_due)
        oldest = [o for _t, _d, o in by_status.values() if o is not None]
        age = GaugeMetricFamily("awards_mail_queue_oldest_due_age_seconds",
                                "How long the oldest due e-mail has been in the outbox (0 when "
                                "none is due).")
        age.add_metric([], max(0.0, (self.now - min(oldest)).total_seconds()) if oldest else 0)
        yield queued
        yield waiting
        yield age


def _authorised(token: str) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(),
                                                             token.encode())


def metrics_view():
    token = current_app.config.get("METRICS_TOKEN") or ""
    metrics = current_app.extensions.get(EXTENSION)
    if not token or metrics is None or not _authorised(token):
        abort(404)
    from awards.db import get_db, utcnow

    if multiprocess_dir():
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        text = generate_latest(registry)
    else:
        text = generate_latest(metrics.registry)
    mail = CollectorRegistry()
    mail.register(MailQueueCollector(get_db(), utcnow()))
    response = Response(text + generate_latest(mail), mimetype=None)
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    response.headers["Cache-Control"] = "no-store"
    return response


def register(app: Flask) -> None:
    """With a token configured: the ``/metrics`` route and the measuring. Without one there is
    neither (``/metrics`` is an unknown address, 404, and requests cost nothing extra)."""
    if not app.config.get("METRICS_TOKEN"):
        return
    app.add_url_rule("/metrics", "metrics", metrics_view, methods=["GET"])
    directory = multiprocess_dir()
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
    metrics = Metrics()
    app.extensions[EXTENSION] = metrics

    @app.teardown_request
    def _endpoint(_exc=None) -> None:
        request.environ[ENDPOINT_KEY] = request.endpoint

    app.wsgi_app = _Middleware(app.wsgi_app, metrics)
