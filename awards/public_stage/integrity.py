"""Signs that a vote may not be one person's free choice. Suspicious votes are counted but
flagged for an administrator's review, never silently dropped: a false alarm must not cost a
real voter their vote, and a real attack must be visible to the people who decide."""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

from flask import current_app
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Connection

from awards.public_stage.models import PublicVote

DISPOSABLE_FILE = Path(__file__).with_name("data") / "disposable_domains.txt"

# Flag reasons as stored in PublicVote.flag_reasons; the admin pages translate them.
DISPOSABLE_EMAIL = "disposable_email"
BURST = "burst"


@lru_cache(maxsize=8192)
def network_of(ip: str) -> str:
    """The /24 (IPv4) or /48 (IPv6) network of an address: one household, office or small
    provider pool shares it, so it is the unit for network limits and burst detection.
    Remembered per process: a vote asks for it three times, and parsing an address costs
    more than the lookup."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip or "unknown"
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


@lru_cache(maxsize=1)
def disposable_domains() -> frozenset[str]:
    lines = DISPOSABLE_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines
                     if line.strip() and not line.lstrip().startswith("#"))


def is_disposable(domain: str) -> bool:
    domain = domain.strip().lower().rstrip(".")
    known = disposable_domains()
    parts = domain.split(".")
    return any(".".join(parts[i:]) in known for i in range(len(parts) - 1))


def reasons_for_new_vote(*, voter_domain: str) -> list[str]:
    """What is known before the vote is written: nothing here needs a query."""
    return [DISPOSABLE_EMAIL] if is_disposable(voter_domain) else []


def _burst_statements():
    table = PublicVote.__table__
    recent = (table.c.stage_id == bindparam("b_stage"), table.c.network == bindparam("b_network"),
              table.c.cast_at >= bindparam("b_since"))
    count = select(func.count()).select_from(table).where(*recent)
    # Votes not flagged yet carry no reason (a vote is flagged exactly when it has one), so
    # the burst is their only reason.
    flag = (update(table).where(*recent, table.c.flagged.is_(False))
            .values(flagged=True, flag_reasons=[BURST]))
    return count, flag


_BURST: list = []


def burst_window() -> timedelta:
    return timedelta(seconds=int(current_app.config["PUBLIC_VOTE_BURST_SECONDS"]))


def flag_burst(conn: Connection, *, stage_id: int, network: str, now: datetime,
               count: int | None = None) -> bool:
    """After a vote is written: too many votes from one network within the window flag every
    vote of that window from that network, since any of them may belong to the burst.
    ``count``: the votes of the window from the network, this one included, when the caller
    already has it (the first vote's INSERT returns it); else counted here.

    One indexed count per vote; the flagging UPDATE runs only when a burst is found, and
    touches only the votes not flagged yet: once a burst is found, the votes before this one
    already carry the flag, so a busy network (a mobile operator's /24) costs one vote per
    request, not the whole window again. A vote flagged earlier for another reason is already
    in the review list and keeps its first reason."""
    limit = int(current_app.config["PUBLIC_VOTE_BURST_COUNT"])
    if limit <= 0 or not network:
        return False
    if not _BURST:
        _BURST.extend(_burst_statements())
    count_statement, flag = _BURST
    params = {"b_stage": stage_id, "b_network": network, "b_since": now - burst_window()}
    if count is None:
        count = conn.execute(count_statement, params).scalar() or 0
    if count <= limit:
        return False
    conn.execute(flag, params)
    return True
