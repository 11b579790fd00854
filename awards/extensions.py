"""Extension objects shared by the whole package; bound to an app in ``create_app``."""

import math
import time

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from limits import RateLimitItem
from limits.storage import RedisStorage
from limits.strategies import FixedWindowRateLimiter
from redis.exceptions import NoScriptError

babel = Babel()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def retry_after() -> str | None:
    """For a request refused by a rate limit: the seconds until that limit lets the client in
    again, for the ``Retry-After`` header (the X-RateLimit headers are off: see
    ``register_extensions`` in ``awards/__init__.py``)."""
    current = limiter.current_limit
    if current is None or not current.breached:
        return None
    # The storage rounds the reset time up; the wait is never longer than the window itself.
    window = current.limit.get_expiry()
    return str(min(window, max(1, math.ceil(current.reset_at - time.time()))))


def hit_all(checks: list[tuple[RateLimitItem, tuple[str, ...]]]) -> list[bool]:
    """Count one hit on each (limit, identifiers) in the limiter's storage; for each, whether
    it is still within its limit. With the fixed-window counters in Redis, the increments
    travel in one pipeline (the ``limits`` library's own script, one round trip instead of one
    per counter); any other storage or strategy is asked one counter at a time."""
    strategy = limiter.limiter
    storage = strategy.storage
    script = getattr(storage, "lua_incr_expire", None)
    if type(strategy) is FixedWindowRateLimiter and isinstance(storage, RedisStorage) \
            and script is not None:
        # EVALSHA straight away: a pipeline given the script object first asks Redis whether
        # it knows the script, a round trip of its own on every request.
        pipe = storage.get_connection().pipeline(transaction=False)
        for item, keys in checks:
            pipe.evalsha(script.sha, 1, storage.prefixed_key(item.key_for(*keys)),
                         item.get_expiry(), 1)
        try:
            counts = pipe.execute()
        except NoScriptError:  # Redis restarted or was flushed: nothing was counted
            pass
        else:
            return [int(count) <= item.amount
                    for count, (item, _keys) in zip(counts, checks, strict=True)]
    # One counter at a time; the library loads its script into Redis when it must.
    return [strategy.hit(item, *keys) for item, keys in checks]
