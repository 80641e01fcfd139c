"""allauth's page that lists a member's login addresses, audited like our own pages.

The view is allauth's; this wrapper records the sighting whenever the page is shown.
"""

from typing import Any

from allauth.account import views as allauth_views
from django.http import HttpRequest, HttpResponseBase
from django.utils.translation import gettext_noop

from mutualaid.common.audit import record_personal_data_access


def email(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
    response = allauth_views.email(request, *args, **kwargs)
    if response.status_code == 200 and request.user.is_authenticated:
        record_personal_data_access(
            actor=request.user,
            subject=request.user,
            fields=["email"],
            reason=gettext_noop("own login addresses"),
            request=request,
        )
    return response
