from collections.abc import Iterable, Mapping
from typing import Any

from django import template

from mutualaid.groups.models import Role
from mutualaid.needs.models import ContactMethod
from mutualaid.people.models import SPOKEN_LANGUAGES

register = template.Library()


@register.filter
def label_in(code: str, labels: Mapping[str, str]) -> str:
    """{{ need.category|label_in:category_labels }}: the name of a kind of help, or its code
    when the group has since removed it."""
    return labels.get(code, code)


@register.filter
def dispatcher_among(user: Any, grants: Iterable[Any]) -> bool:
    """{% if user|dispatcher_among:roles %}: whether `user` holds one of these grants of the
    dispatcher role. Reads grants already loaded for the page, so it costs no query; whether
    the role is in force was decided when they were loaded."""
    pk = getattr(user, "pk", None)
    return pk is not None and any(
        grant.holder_id == pk and grant.role == Role.DISPATCHER for grant in grants
    )


@register.filter
def language_name(code: str) -> str:
    """The name of a spoken language in the reader's language, or its code if not listed."""
    return str(dict(SPOKEN_LANGUAGES).get(code, code))


@register.filter
def contact_method_name(code: str) -> str:
    """How the requester wants to be reached, in the reader's language."""
    return str(ContactMethod(code).label) if code in ContactMethod.values else code
