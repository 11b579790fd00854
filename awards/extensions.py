"""Extension objects shared by the whole package; bound to an app in ``create_app``."""

import math
import time

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager

babel = Babel()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def retry_after() -> str | None:
    """For a request refused by a rate limit: the seconds until that limit lets the client in
    again, for the ``Retry-After`` header (the X-RateLimit headers are off, see config.py)."""
    current = limiter.current_limit
    if current is None or not current.breached:
        return None
    # The storage rounds the reset time up; the wait is never longer than the window itself.
    window = current.limit.get_expiry()
    return str(min(window, max(1, math.ceil(current.reset_at - time.time()))))
