"""The one way pages, API endpoints and commands record access to personal data."""

from collections.abc import Iterable

from django.http import HttpRequest

from mutualaid.common.models import AuditEvent


def record_personal_data_access(
    *,
    actor: object | None,
    subject: object | None = None,
    subject_label: str = "",
    fields: Iterable[str],
    reason: str,
    request: HttpRequest | None = None,
    channel: str | None = None,
    where: str = "",
    action: str = AuditEvent.Action.VIEW,
) -> AuditEvent:
    """Record that `actor` was shown `fields` of `subject`'s personal data, and why.

    Call it in the same code path that puts the data into the response, so no view of personal
    data can skip it.
    """
    if request is not None:
        where = where or request.get_full_path()[:300]
        if channel is None:
            channel = (
                AuditEvent.Channel.API
                if request.path.startswith("/api/")
                else AuditEvent.Channel.WEB
            )
    actor_id = getattr(actor, "pk", None) if actor is not None else None
    subject_id = getattr(subject, "pk", None) if subject is not None else None
    return AuditEvent.objects.create(
        actor_id=actor_id,
        subject_id=subject_id,
        subject_label=subject_label or (f"member #{subject_id}" if subject_id else "unknown"),
        fields=sorted(fields),
        reason=reason,
        channel=channel or AuditEvent.Channel.COMMAND,
        where=where,
        action=action,
    )
