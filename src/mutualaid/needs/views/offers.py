"""Offers of time, skills and goods: parse, call one service or selector, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from mutualaid.common.errors import ApplicationError
from mutualaid.groups.models import Group
from mutualaid.needs import permissions, selectors, services
from mutualaid.needs.forms.offers import OfferForm
from mutualaid.needs.models import Offer
from mutualaid.people.models import User


def _member(request: HttpRequest) -> User:
    """The logged-in member of a view behind login_required."""
    user = request.user
    assert isinstance(user, User)
    return user


def _group_or_404(slug: str) -> Group:
    return get_object_or_404(Group, slug=slug)


@login_required
def offer_list(request: HttpRequest, slug: str) -> HttpResponse:
    group = _group_or_404(slug)
    member = _member(request)
    if not permissions.can_view_offers(member, group):
        raise PermissionDenied(_("Only members of this group can see its offers."))
    offers = list(selectors.offers_current(group=group).select_related("member"))
    return render(
        request,
        "needs/offer_list.html",
        {
            "group": group,
            "offers": offers,
            "mine": [offer for offer in offers if offer.member_id == member.pk],
            "category_labels": dict(selectors.category_choices(group=group)),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def offer_create(request: HttpRequest, slug: str) -> HttpResponse:
    group = _group_or_404(slug)
    member = _member(request)
    if not permissions.can_offer(member, group):
        raise PermissionDenied(_("Only members of this group can offer help through it."))
    form = OfferForm(request.POST or None, categories=selectors.category_choices(group=group))
    if request.method == "POST" and form.is_valid():
        try:
            offer = services.offer_create(group=group, member=member, **form.offer_fields())
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _("Thank you. “%(title)s” is on the group's list of offers.")
                % {"title": offer.title},
            )
            return redirect("needs:offer_list", slug=group.slug)
    return render(request, "needs/offer_form.html", {"group": group, "form": form})


@login_required
@require_POST
def offer_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    offer = get_object_or_404(Offer.objects.select_related("group"), pk=pk)
    member = _member(request)
    if not permissions.can_withdraw_offer(member, offer):
        raise PermissionDenied(_("Only the member who made an offer can withdraw it."))
    try:
        services.offer_withdraw(offer=offer, member=member)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("“%(title)s” is withdrawn.") % {"title": offer.title})
    return redirect("needs:offer_list", slug=offer.group.slug)
