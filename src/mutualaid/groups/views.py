"""Group pages: parse the request, call one service or selector, render."""

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from mutualaid.common.errors import ApplicationError
from mutualaid.groups import permissions, selectors, services
from mutualaid.groups.forms import GroupForm, JoinForm, RoleProposeForm, SkillForm
from mutualaid.groups.models import Group, JoinRequest, Membership, RoleGrant
from mutualaid.people.models import User

MEMBERS_ON_GROUP_PAGE = 20
MEMBERS_PER_PAGE = 100


def _member(request: HttpRequest) -> User:
    """The logged-in member of a view behind login_required."""
    user = request.user
    assert isinstance(user, User)
    return user


def _group_or_404(slug: str) -> Group:
    return get_object_or_404(selectors.group_list(), slug=slug)


def _render_detail(
    request: HttpRequest, group: Group, *, join_form: JoinForm | None = None
) -> HttpResponse:
    user = request.user
    is_member = permissions.is_member(user, group)
    context: dict[str, Any] = {
        "group": group,
        "children": list(selectors.group_children(group=group)),
        "is_member": is_member,
        "can_edit": False,
    }
    if is_member:
        # The page's cost must not grow with the group: the first members only, and the
        # count the group was loaded with.
        context.update(
            can_edit=permissions.can_edit_group(user, group),
            memberships=list(selectors.group_members(group=group)[:MEMBERS_ON_GROUP_PAGE]),
            more_members=group.member_count > MEMBERS_ON_GROUP_PAGE,  # type: ignore[attr-defined]
            roles=list(selectors.group_roles_in_force(group=group)),
            awaiting=list(selectors.group_roles_awaiting_confirmation(group=group)),
            join_requests=list(selectors.group_pending_join_requests(group=group)),
            founding_period=permissions.in_founding_period(group),
        )
    else:
        context.update(
            my_join_request=selectors.pending_join_request(group=group, applicant=user),
            join_form=join_form or JoinForm(),
        )
    return render(request, "groups/detail.html", context)


def group_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return _render_detail(request, _group_or_404(slug))


@login_required
def group_members(request: HttpRequest, slug: str) -> HttpResponse:
    group = _group_or_404(slug)
    if not permissions.can_view_members(request.user, group):
        raise PermissionDenied(_("Only members of this group can see who else is in it."))
    page = Paginator(selectors.group_members(group=group), MEMBERS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "groups/members.html", {"group": group, "page": page})


@login_required
def group_create(request: HttpRequest) -> HttpResponse:
    form = GroupForm(request.POST or None, user=_member(request))
    if request.method == "POST" and form.is_valid():
        try:
            group = services.group_create(creator=_member(request), **form.group_fields())
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _("You started %(group)s. You are its steward for the first 30 days.")
                % {"group": group.name},
            )
            return redirect(group)
    return render(request, "groups/form.html", {"form": form, "group": None})


@login_required
def group_edit(request: HttpRequest, slug: str) -> HttpResponse:
    group = _group_or_404(slug)
    if not permissions.can_edit_group(request.user, group):
        raise PermissionDenied(_("Only a steward of this group can change its settings."))
    # The form works on its own copy, so a rejected change never shows as the group's name.
    form = GroupForm(
        request.POST or None, instance=Group.objects.get(pk=group.pk), user=_member(request)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.group_update(actor=_member(request), group=group, **form.group_fields())
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The group's settings are saved."))
            return redirect(group)
    return render(request, "groups/form.html", {"form": form, "group": group})


def group_skills(request: HttpRequest, slug: str) -> HttpResponse:
    group = _group_or_404(slug)
    can_add = permissions.can_add_skill(request.user, group)
    form = SkillForm(request.POST or None)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not can_add:
            raise PermissionDenied(_("Only members of this group can add skills to its list."))
        if form.is_valid():
            try:
                skill = services.group_skill_add(
                    group=group, member=_member(request), name=form.cleaned_data["name"]
                )
            except ApplicationError as error:
                form.add_error("name", error.message)
            else:
                messages.success(
                    request, _("%(skill)s is on the list now.") % {"skill": skill.name}
                )
                return redirect("groups:skills", slug=group.slug)
    skills = list(selectors.group_skills(group=group))
    return render(
        request,
        "groups/skills.html",
        {
            "group": group,
            "shared_skills": [s for s in skills if s.group_id is None],
            "group_skills": [s for s in skills if s.group_id is not None],
            "can_add": can_add,
            "form": form,
        },
    )


@login_required
@require_POST
def group_join(request: HttpRequest, slug: str) -> HttpResponse:
    group = _group_or_404(slug)
    form = JoinForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, group, join_form=form)
    result = services.group_join(
        group=group, member=_member(request), message=form.cleaned_data["message"]
    )
    if isinstance(result, Membership):
        messages.success(request, _("You are a member of %(group)s.") % {"group": group.name})
    else:
        messages.success(
            request,
            _("You asked to join %(group)s. A member will vouch for you soon.")
            % {"group": group.name},
        )
    return redirect(group)


@login_required
@require_POST
def group_leave(request: HttpRequest, slug: str) -> HttpResponse:
    group = _group_or_404(slug)
    try:
        services.group_leave(group=group, member=_member(request))
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("You left %(group)s.") % {"group": group.name})
    return redirect(group)


@login_required
@require_POST
def join_request_vouch(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    group = _group_or_404(slug)
    join_request = get_object_or_404(
        JoinRequest.objects.select_related("group"), pk=pk, group=group
    )
    try:
        membership = services.join_request_vouch(
            join_request=join_request, voucher=_member(request)
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("You vouched for %(name)s, who is now a member.")
            % {"name": membership.member.public_name},
        )
    return redirect(group)


@login_required
@require_POST
def join_request_withdraw(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    group = _group_or_404(slug)
    join_request = get_object_or_404(JoinRequest, pk=pk, group=group)
    services.join_request_withdraw(join_request=join_request, applicant=_member(request))
    messages.success(request, _("You withdrew your request to join."))
    return redirect(group)


@login_required
@require_http_methods(["GET", "POST"])
def role_grant_propose(request: HttpRequest, slug: str) -> HttpResponse:
    """A page of its own, since choosing the holder lists every member of the group."""
    group = _group_or_404(slug)
    if not permissions.can_propose_role(request.user, group):
        raise PermissionDenied(_("Only members of this group can propose a role."))
    if not permissions.in_founding_period(group):
        messages.info(
            request,
            _("After a group's first 30 days, roles are given by a proposal the group decides on."),
        )
        proposing = reverse("decisions:create", kwargs={"slug": group.slug})
        return redirect(f"{proposing}?kind=role_grant")
    members = [m.member for m in selectors.group_members(group=group)]
    if request.method == "GET":
        form = RoleProposeForm(members=members, initial={"holder": request.GET.get("holder")})
        return render(request, "groups/role_propose.html", {"group": group, "propose_form": form})
    form = RoleProposeForm(request.POST, members=members)
    if form.is_valid():
        try:
            grant = services.role_grant_propose(
                group=group,
                proposer=_member(request),
                holder=form.cleaned_data["holder"],
                role=form.cleaned_data["role"],
                reason=form.cleaned_data["reason"],
                expires_at=timezone.now() + timedelta(days=form.cleaned_data["days"]),
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _(
                    "You proposed %(name)s as %(role)s. Another member needs to confirm it "
                    "before it is in force."
                )
                % {"name": grant.holder.public_name, "role": grant.get_role_display()},
            )
            return redirect(group)
    return render(request, "groups/role_propose.html", {"group": group, "propose_form": form})


@login_required
@require_POST
def role_grant_confirm(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    group = _group_or_404(slug)
    grant = get_object_or_404(
        RoleGrant.objects.select_related("group", "holder"), pk=pk, group=group
    )
    try:
        services.role_grant_confirm(grant=grant, confirmer=_member(request))
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("You confirmed %(name)s as %(role)s.")
            % {"name": grant.holder.public_name, "role": grant.get_role_display()},
        )
    return redirect(group)


@login_required
@require_POST
def role_grant_step_down(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    group = _group_or_404(slug)
    grant = get_object_or_404(RoleGrant, pk=pk, group=group)
    was_confirmed = grant.confirmed_at is not None
    services.role_grant_step_down(grant=grant, holder=_member(request))
    if was_confirmed:
        messages.success(
            request, _("You stepped down as %(role)s.") % {"role": grant.get_role_display()}
        )
    else:
        messages.success(request, _("The proposed role is withdrawn."))
    return redirect(group)
