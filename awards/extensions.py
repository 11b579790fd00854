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


# The ``limits`` library's own fixed-window increment (incr_expire.lua: count one hit, start
# the window's expiry on the first) for several counters in one call.
INCR_EXPIRE_ALL = """
local counts = {}
for i, key in ipairs(KEYS) do
    local current = redis.call("incrby", key, 1)
    if current == 1 then
        redis.call("expire", key, ARGV[i])
    end
    counts[i] = current
end
return counts
"""


def hit_all(checks: list[tuple[RateLimitItem, tuple[str, ...]]]) -> list[bool]:
    """Count one hit on each (limit, identifiers) in the limiter's storage; for each, whether
    it is still within its limit. With the fixed-window counters in Redis, all of them in one
    script call (one round trip, and a fraction of the client's work of a pipeline of one
    call per counter), under the keys and with the expiries the library itself uses, so its
    window statistics read them as its own; any other storage or strategy is asked one
    counter at a time."""
    strategy = limiter.limiter
    storage = strategy.storage
    if type(strategy) is FixedWindowRateLimiter and isinstance(storage, RedisStorage):
        script = getattr(storage, "_awards_incr_expire_all", None)
        if script is None:
            script = storage.get_connection().register_script(INCR_EXPIRE_ALL)
            storage._awards_incr_expire_all = script
        keys = [storage.prefixed_key(item.key_for(*identifiers)) for item, identifiers in checks]
        # The script is loaded into Redis again by redis-py if Redis forgot it (a restart).
        counts = script(keys=keys, args=[item.get_expiry() for item, _ids in checks])
        return [int(count) <= item.amount
                for count, (item, _ids) in zip(counts, checks, strict=True)]
    # One counter at a time; the library loads its script into Redis when it must.
    return [strategy.hit(item, *keys) for item, keys in checks]
