"""The JSON API, mounted at /api/: its OpenAPI document is at /api/openapi.json, docs at /api/docs.

Every operation needs an API token unless it says otherwise; each app adds its own router.
"""

from ninja import NinjaAPI

from mutualaid.api.auth import token_required
from mutualaid.api.docs import LocalSwagger
from mutualaid.api.errors import register_error_handlers
from mutualaid.api.parser import JsonObjectParser
from mutualaid.decisions.api import router as decisions_router
from mutualaid.dispatch.api import router as dispatch_router
from mutualaid.funds.api import router as funds_router
from mutualaid.groups.api import router as groups_router
from mutualaid.needs.api import router as needs_router
from mutualaid.people.api import router as people_router

api = NinjaAPI(
    title="Mutual Aid API",
    version="1",
    description=(
        "Send your personal API token as `Authorization: Bearer <token>`. Make one on your "
        "profile page or with `mutualaid token`; you can revoke it there at any time."
    ),
    auth=token_required,
    docs=LocalSwagger(),
    parser=JsonObjectParser(),
    urls_namespace="api",
)
register_error_handlers(api)

api.add_router("/", people_router)
api.add_router("/groups", groups_router)
# Requests and offers live under /api/groups/{slug}/ and /api/requests/.
api.add_router("/", needs_router)
api.add_router("/", dispatch_router)
# Proposals under /api/groups/{slug}/proposals and /api/proposals/; funds under
# /api/groups/{slug}/funds, /api/funds/, /api/disbursements/ and /api/transactions/.
api.add_router("/", decisions_router)
api.add_router("/", funds_router)
