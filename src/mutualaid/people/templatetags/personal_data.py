"""Template side of the audit log, for pages whose view is not ours (allauth's account pages).

Our own views call record_personal_data_access directly; this tag does the same from a template
that shows the member their own personal data, in the same rendering that shows it.
"""

from typing import Any

from django import template

from mutualaid.common.audit import record_personal_data_access

register = template.Library()


@register.simple_tag(takes_context=True)
def audit_own_data(context: dict[str, Any], fields: str, *, reason: str) -> str:
    """Record that the logged-in member was shown these comma-separated fields of their own."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or not getattr(user, "is_authenticated", False):
        return ""
    record_personal_data_access(
        actor=user,
        subject=user,
        fields=[field.strip() for field in fields.split(",") if field.strip()],
        reason=reason,
        request=request,
    )
    return ""
