"""Login throttling that stops guessing without letting a stranger lock the owner out.

Failed logins are counted three ways, in the rate limiter's storage (Redis in production):

* per client address, whatever the account: one address guessing many accounts is stopped;
* per address and account: one address guessing one account is stopped sooner. The attempt is
  counted before the password is checked (one atomic increment), so parallel guesses cannot
  slip past the count; a successful login forgets that address's failures for the account;
* per account, from every address: while an account is under attack from many addresses, an
  address that has already failed for it gets no further guess until the window ends.

A refusal only ever concerns the addresses that failed: the owner, from an address that has not
guessed, still logs in with the right password. A successful login costs nothing."""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from flask import current_app
from flask_babel import ngettext
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many

from awards.extensions import limiter

# Defaults until config.py names them (RATELIMIT_LOGIN is already there: per address).
_DEFAULTS = {
    "RATELIMIT_LOGIN": "10 per minute;50 per hour",
    "RATELIMIT_LOGIN_ACCOUNT_ADDRESS": "5 per minute;20 per hour",
    "RATELIMIT_LOGIN_ACCOUNT": "20 per hour",
}


@dataclass(frozen=True)
class Refusal:
    seconds: int
    message: str


def _limits(name: str) -> list[RateLimitItem]:
    return parse_many(current_app.config.get(name) or _DEFAULTS[name])


def _enabled() -> bool:
    return bool(current_app.config.get("RATELIMIT_ENABLED", True)) and limiter.enabled


def _account(email: str) -> str:
    # The address itself is not written into the limiter's keys.
    return hashlib.sha256(email.strip().lower().encode("utf-8", "replace")).hexdigest()[:32]


class Attempt:
    """One login attempt from this request's address for ``email``."""

    def __init__(self, email: str):
        self.address = get_remote_address() or ""
        self.account = _account(email)
        self.enabled = _enabled()

    def _keys(self):
        return {
            "address": ("login-fail-address", self.address),
            "pair": ("login-fail-pair", self.address, self.account),
            "account": ("login-fail-account", self.account),
        }

    def _wait(self, item: RateLimitItem, keys: tuple[str, ...]) -> int:
        reset_at, _remaining = limiter.limiter.get_window_stats(item, *keys)
        return min(item.get_expiry(), max(1, math.ceil(reset_at - time.time())))

    def begin(self) -> Refusal | None:
        """Before the password is checked: a refusal, or None (the attempt is then counted
        against this address and account until ``succeeded`` forgets it)."""
        if not self.enabled:
            return None
        strategy = limiter.limiter
        keys = self._keys()
        for item in _limits("RATELIMIT_LOGIN"):
            if not strategy.test(item, *keys["address"]):
                return _from_address(self._wait(item, keys["address"]))
        pair_limits = _limits("RATELIMIT_LOGIN_ACCOUNT_ADDRESS")
        failed_here = any(strategy.get_window_stats(item, *keys["pair"]).remaining < item.amount
                          for item in pair_limits)
        if failed_here:
            for item in _limits("RATELIMIT_LOGIN_ACCOUNT"):
                if not strategy.test(item, *keys["account"]):
                    return _for_account(self._wait(item, keys["account"]))
        for item in pair_limits:
            if not strategy.test(item, *keys["pair"]):
                return _for_account(self._wait(item, keys["pair"]))
        # Counted now, atomically: parallel guesses each take their own place in the count.
        refused = None
        for item in pair_limits:
            if not strategy.hit(item, *keys["pair"]) and refused is None:
                refused = _for_account(self._wait(item, keys["pair"]))
        return refused

    def failed(self) -> None:
        if not self.enabled:
            return
        strategy = limiter.limiter
        keys = self._keys()
        for item in _limits("RATELIMIT_LOGIN"):
            strategy.hit(item, *keys["address"])
        for item in _limits("RATELIMIT_LOGIN_ACCOUNT"):
            strategy.hit(item, *keys["account"])

    def succeeded(self) -> None:
        if not self.enabled:
            return
        strategy = limiter.limiter
        keys = self._keys()
        for item in _limits("RATELIMIT_LOGIN_ACCOUNT_ADDRESS"):
            strategy.clear(item, *keys["pair"])


def _minutes(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))


def _from_address(seconds: int) -> Refusal:
    minutes = _minutes(seconds)
    return Refusal(seconds, ngettext(
        "Too many failed logins from your network. Try again in %(num)d minute.",
        "Too many failed logins from your network. Try again in %(num)d minutes.",
        minutes))


def _for_account(seconds: int) -> Refusal:
    minutes = _minutes(seconds)
    return Refusal(seconds, ngettext(
        "Too many failed logins to this account from your network. Try again in %(num)d "
        "minute, or reset your password.",
        "Too many failed logins to this account from your network. Try again in %(num)d "
        "minutes, or reset your password.",
        minutes))
