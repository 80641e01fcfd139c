"""How the API pages through a list: `limit` and `offset`, within what a database can count."""

from typing import Any

from ninja import Field, Schema
from ninja.conf import settings
from ninja.pagination import LimitOffsetPagination

# The most items one page holds; a bigger `limit` gives this many.
MAX_LIMIT = 100
# Far past the end of any list here, and far below the 64-bit row counts databases take: a
# bigger offset is refused with 422 instead of failing in the database.
MAX_OFFSET = 1_000_000_000


class LimitOffset(LimitOffsetPagination):
    """django-ninja's limit and offset paging, with an upper bound on the page and the offset."""

    class Input(Schema):
        limit: int = Field(settings.PAGINATION_PER_PAGE, ge=1)
        offset: int = Field(0, ge=0, le=MAX_OFFSET)

    def __init__(self, max_limit: int = MAX_LIMIT, **kwargs: Any) -> None:
        super().__init__(max_limit=max_limit, **kwargs)
