"""How often one address may ask for help without an account.

The "Ask for help" page and the API count together, so neither is a way around the other.
"""

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import is_ratelimited

ANONYMOUS_ASKING = "needs-ask"


def anonymous_asking_limited(request: HttpRequest, *, increment: bool = True) -> bool:
    """Whether this address has used up its requests for now, at the rate in
    settings.NEEDS_ANONYMOUS_REQUEST_RATE; `increment` counts this one."""
    return is_ratelimited(
        request,
        group=ANONYMOUS_ASKING,
        key="ip",
        rate=settings.NEEDS_ANONYMOUS_REQUEST_RATE,
        increment=increment,
    )
