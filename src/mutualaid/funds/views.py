"""The open books of a group's funds: parse, call one service or selector, render.

Every member reads every fund and every movement; a requester shows only as "neighbour" and
the request's reference. Treasurers record money in, ask for money out (a second member
confirms), pay and correct; receipts reach only the claimant, treasurers and dispatchers, and
each opening of one is audited by the service that decrypts it.
"""

from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mutualaid.common.errors import ApplicationError
from mutualaid.funds import exports, permissions, selectors, services
from mutualaid.funds.charts import bar_heights, monthly_chart_svg
from mutualaid.funds.forms import (
    ContributionForm,
    DisbursementForm,
    FundForm,
    PayClaimForm,
    ReceiptForm,
    RejectForm,
    ReverseForm,
)
from mutualaid.funds.models import Disbursement, Fund, Receipt, Transaction
from mutualaid.groups.models import Group
from mutualaid.needs.models import ReimbursementClaim
from mutualaid.people.models import User

MOVEMENTS_PER_PAGE = 25
# A movement's number in a link fits a 64-bit id.
MOVEMENT_ID_DIGITS = 18
# How long a member sees their own claims that were paid or turned down.
DECIDED_CLAIMS_SHOWN_FOR = timedelta(days=90)
CHART_MONTHS = 12
WAITING_STATUSES = (
    Disbursement.Status.PROPOSED,
    Disbursement.Status.AWAITING_CONFIRMATION,
    Disbursement.Status.APPROVED,
)


def _member(request: HttpRequest) -> User:
    """The logged-in member of a view behind login_required."""
    user = request.user
    assert isinstance(user, User)
    return user


def _group_or_404(slug: str) -> Group:
    return get_object_or_404(Group, slug=slug)


def _fund_or_404(group: Group, pk: int) -> Fund:
    fund = get_object_or_404(Fund, pk=pk, group=group)
    fund.group = group  # already loaded: spares a query on every permission check
    return fund


def _readable_fund(request: HttpRequest, slug: str, pk: int) -> Fund:
    group = _group_or_404(slug)
    fund = _fund_or_404(group, pk)
    if not permissions.can_view_books(request.user, fund):
        raise PermissionDenied(_("Only members of this group can read its books."))
    return fund


def _claims_pending(group: Group) -> QuerySet[ReimbursementClaim]:
    """The group's reimbursement claims waiting to be paid, with what the pages show of them:
    the request's reference, the claimant's display name, the receipt and any live
    disbursement. No encrypted detail of the claimant is loaded."""
    return (
        ReimbursementClaim.objects.filter(
            request__group=group, status=ReimbursementClaim.Status.PENDING
        )
        .select_related("request", "claimant", "receipt")
        .only(
            "pk",
            "amount_minor",
            "currency",
            "note",
            "status",
            "created_at",
            "claimant_id",
            "request_id",
            "request__reference",
            "request__group_id",
            "claimant__display_name",
            "claimant__erased_at",
            "receipt__id",
            "receipt__content_type",
            "receipt__size_bytes",
            "receipt__uploaded_at",
        )
        .prefetch_related(
            Prefetch(
                "disbursements",
                queryset=Disbursement.objects.exclude(status=Disbursement.Status.CANCELLED)
                .select_related("fund")
                .only("pk", "status", "reimbursement_id", "fund__id", "fund__name"),
                to_attr="live_disbursements",
            )
        )
        .order_by("created_at", "pk")
    )


def _waiting_disbursements(fund: Fund) -> list[Disbursement]:
    """Money out that is not paid yet: waiting for the group, a second member or money."""
    return list(
        Disbursement.objects.filter(fund=fund, status__in=WAITING_STATUSES)
        .select_related("request", "reimbursement__request", "requested_by")
        .only(
            "pk",
            "amount_minor",
            "payee_kind",
            "payee_name",
            "purpose",
            "status",
            "created_at",
            "requested_by_id",
            "proposal_id",
            "fund_id",
            "request__reference",
            "reimbursement__claimant_id",
            "reimbursement__request__reference",
            "requested_by__display_name",
            "requested_by__erased_at",
        )
        .order_by("created_at", "pk")
    )


def _fund_figures(fund: Fund) -> Any:
    for figures in selectors.fund_balances(group=fund.group):
        if figures.pk == fund.pk:
            return figures
    raise Http404


def _chart(fund: Fund) -> dict[str, Any]:
    months = selectors.monthly_totals(fund=fund, months=CHART_MONTHS)
    svg = monthly_chart_svg(
        months=months,
        currency=fund.currency,
        title=_("Money in and out of %(fund)s, month by month") % {"fund": fund.name},
    )
    return {
        # Built by charts.py, which escapes every piece of text it puts in.
        "chart_svg": mark_safe(svg),  # noqa: S308
        "chart_rows": bar_heights(months),
    }


# The list of funds


@login_required
def fund_list(request: HttpRequest, slug: str) -> HttpResponse:
    group = _group_or_404(slug)
    member = _member(request)
    if not permissions.can_view_books(member, group):
        raise PermissionDenied(_("Only members of this group can read its books."))
    return render(
        request,
        "funds/fund_list.html",
        {
            "group": group,
            "funds": selectors.fund_balances(group=group),
            "can_manage": permissions.can_manage_fund(member, group),
            "can_see_claims": permissions.can_view_all_claims(member, group),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def fund_create(request: HttpRequest, slug: str) -> HttpResponse:
    group = _group_or_404(slug)
    member = _member(request)
    if not permissions.can_manage_fund(member, group):
        raise PermissionDenied(_("Only the group's treasurers and stewards can open a fund."))
    form = FundForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            fund = services.fund_create(
                group=group,
                actor=member,
                name=form.cleaned_data["name"],
                purpose=form.cleaned_data["purpose"],
                currency=form.cleaned_data["currency"],
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The fund %(name)s is open.") % {"name": fund.name})
            return redirect("funds:detail", slug=group.slug, pk=fund.pk)
    return render(
        request,
        "funds/fund_form.html",
        {"group": group, "form": form},
        status=400 if form.errors else 200,
    )


# One fund's books


def _render_detail(
    request: HttpRequest, fund: Fund, *, status: int = 200, **forms: Any
) -> HttpResponse:
    member = _member(request)
    group = fund.group
    treasurer = permissions.is_treasurer(member, fund)
    page = Paginator(selectors.fund_movements(fund=fund), MOVEMENTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    movements = []
    for transaction in page:
        line = selectors.movement_line(transaction)
        amount = int(line["amount_minor"])
        movements.append(
            {
                "transaction": transaction,
                "line": line,
                "in_minor": max(amount, 0),
                "out_minor": max(-amount, 0),
                "reversible": treasurer
                and line["kind"] != Transaction.Kind.REVERSAL
                and line["reversed_by_id"] is None,
            }
        )
    waiting = _waiting_disbursements(fund)
    for disbursement in waiting:
        disbursement.fund = fund
        disbursement.can_confirm = (  # type: ignore[attr-defined]
            disbursement.status == Disbursement.Status.AWAITING_CONFIRMATION
            and permissions.can_confirm_disbursement(member, disbursement)
        )
    context: dict[str, Any] = {
        "group": group,
        "fund": fund,
        "figures": _fund_figures(fund),
        "page": page,
        "movements": movements,
        "waiting": waiting,
        "treasurer": treasurer,
        "spending_limit": group.spending_limit_minor,
        "reason_max_length": services.REASON_MAX_LENGTH,
        **_chart(fund),
    }
    if treasurer:
        context["contribution_form"] = ContributionForm(currency=fund.currency)
        context["disbursement_form"] = DisbursementForm(
            currency=fund.currency, group=group, claims=_claims_for_fund(fund)
        )
    context.update(forms)
    response = render(request, "funds/fund_detail.html", context, status=status)
    add_never_cache_headers(response)
    return response


def _claims_for_fund(fund: Fund) -> list[ReimbursementClaim]:
    """Pending claims in the fund's currency with no live disbursement yet."""
    return [
        claim
        for claim in _claims_pending(fund.group).filter(currency=fund.currency)
        if not claim.live_disbursements  # type: ignore[attr-defined]
    ]


@login_required
def fund_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    fund = _readable_fund(request, slug, pk)
    movement = request.GET.get("movement", "")
    if movement.isdigit() and len(movement) <= MOVEMENT_ID_DIGITS:
        # A link to one movement (from a proposal, or a correction on another page): the page
        # of the books that shows it.
        page = selectors.movement_page(
            fund=fund, transaction_id=int(movement), per_page=MOVEMENTS_PER_PAGE
        )
        if page is not None:
            return redirect(f"{fund.get_absolute_url()}?page={page}#movement-{movement}")
    return _render_detail(request, fund)


@login_required
@require_GET
def fund_chart(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    fund = _readable_fund(request, slug, pk)
    response = HttpResponse(_chart(fund)["chart_svg"], content_type="image/svg+xml; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    patch_cache_control(response, private=True, no_cache=True)
    return response


@login_required
@require_GET
def fund_export(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    fund = _readable_fund(request, slug, pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"{slugify(fund.name) or 'fund'}-{fund.pk}-books.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, private=True, no_store=True)
    exports.write_books_csv(response, fund=fund)
    return response


@login_required
@require_POST
def contribute(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    fund = _readable_fund(request, slug, pk)
    member = _member(request)
    if not permissions.can_record_contribution(member, fund):
        raise PermissionDenied(_("Only the group's treasurers record money given."))
    form = ContributionForm(request.POST, currency=fund.currency)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.contribution_record(
                fund=fund,
                actor=member,
                amount_minor=data["amount_minor"],
                method=data["method"],
                contributor_name=data["contributor_name"],
                reference=data["reference"],
                memo=data["memo"],
                received_at=_received_at(data["received_at"]),
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The contribution is in the books. Thank you."))
            return redirect("funds:detail", slug=fund.group.slug, pk=fund.pk)
    return _render_detail(request, fund, status=400, contribution_form=form)


def _received_at(day: date | None) -> datetime | None:
    """The day typed on the form as a time for the books: now for today, noon for an earlier
    day, None when left empty."""
    if day is None or day == timezone.localdate():
        return None
    return timezone.make_aware(datetime.combine(day, time(12)))


@login_required
@require_POST
def disburse(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    fund = _readable_fund(request, slug, pk)
    member = _member(request)
    if not permissions.can_request_disbursement(member, fund):
        raise PermissionDenied(_("Only the group's treasurers ask for money to be paid out."))
    form = DisbursementForm(
        request.POST, currency=fund.currency, group=fund.group, claims=_claims_for_fund(fund)
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.disbursement_request(
                fund=fund,
                actor=member,
                amount_minor=data["amount_minor"],
                purpose=data["purpose"],
                payee_kind=data["payee_kind"],
                request=data["request"],
                reimbursement=data["claim"],
                payee_name=data["payee_name"]
                if data["payee_kind"] == Disbursement.PayeeKind.PAYEE
                else "",
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request, _("Asked. Another member now confirms the payment before it is made.")
            )
            return redirect("funds:detail", slug=fund.group.slug, pk=fund.pk)
    return _render_detail(request, fund, status=400, disbursement_form=form)


def _disbursement_or_404(slug: str, pk: int) -> Disbursement:
    group = _group_or_404(slug)
    disbursement = get_object_or_404(
        Disbursement.objects.select_related("fund", "reimbursement"), pk=pk, fund__group=group
    )
    disbursement.fund.group = group
    return disbursement


def _back_to_fund(disbursement_or_transaction: Disbursement | Transaction) -> HttpResponse:
    fund = disbursement_or_transaction.fund
    return redirect("funds:detail", slug=fund.group.slug, pk=fund.pk)


@login_required
@require_POST
def disbursement_confirm(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    disbursement = _disbursement_or_404(slug, pk)
    member = _member(request)
    if not permissions.can_confirm_disbursement(member, disbursement):
        raise PermissionDenied(
            _("A member other than the one who asked for this payment confirms it.")
        )
    try:
        disbursement = services.disbursement_confirm(disbursement=disbursement, actor=member)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        if disbursement.status == Disbursement.Status.PAID:
            messages.success(request, _("Confirmed and paid. It is in the books."))
        else:
            messages.success(
                request, _("Confirmed. It is paid as soon as there is enough in the fund.")
            )
    return _back_to_fund(disbursement)


@login_required
@require_POST
def disbursement_pay(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    disbursement = _disbursement_or_404(slug, pk)
    member = _member(request)
    if not permissions.can_pay_disbursement(member, disbursement):
        raise PermissionDenied(_("Only the group's treasurers pay out."))
    try:
        services.disbursement_pay(disbursement=disbursement, actor=member)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Paid. It is in the books."))
    return _back_to_fund(disbursement)


@login_required
@require_POST
def disbursement_cancel(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    disbursement = _disbursement_or_404(slug, pk)
    member = _member(request)
    if not permissions.can_cancel_disbursement(member, disbursement):
        raise PermissionDenied(_("Only the group's treasurers cancel a payment."))
    try:
        services.disbursement_cancel(disbursement=disbursement, actor=member)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The payment is cancelled."))
    return _back_to_fund(disbursement)


@login_required
@require_POST
def transaction_reverse(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    group = _group_or_404(slug)
    transaction = get_object_or_404(
        Transaction.objects.select_related("fund"), pk=pk, fund__group=group
    )
    transaction.fund.group = group
    member = _member(request)
    if not permissions.can_reverse(member, transaction):
        raise PermissionDenied(_("Only the group's treasurers correct the books."))
    form = ReverseForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("reason", []):
            messages.error(request, str(error))
        return _back_to_fund(transaction)
    try:
        services.transaction_reverse(
            transaction=transaction, actor=member, reason=form.cleaned_data["reason"]
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Corrected. The correction is in the books below."))
    return _back_to_fund(transaction)


# Reimbursements


def _render_reimbursements(
    request: HttpRequest,
    group: Group,
    *,
    status: int = 200,
    form_for: int | None = None,
    **forms: Any,
) -> HttpResponse:
    member = _member(request)
    if not permissions.can_view_books(member, group):
        raise PermissionDenied(_("Only members of this group can see its claims."))
    everyone = permissions.can_view_all_claims(member, group)
    treasurer = permissions.can_pay_reimbursement(member, group)
    claims = _claims_pending(group)
    if not everyone:
        claims = claims.filter(claimant=member)
    funds = list(Fund.objects.filter(group=group).only("pk", "name", "currency"))
    rows = []
    for claim in claims:
        claim.request.group = group
        live = claim.live_disbursements  # type: ignore[attr-defined]
        rows.append(
            {
                "claim": claim,
                "has_receipt": _has_receipt(claim),
                "disbursement": live[0] if live else None,
                "mine": claim.claimant_id == member.pk,
                "pay_form": forms.get("pay_form")
                if form_for == claim.pk and "pay_form" in forms
                else PayClaimForm(
                    funds=[f for f in funds if f.currency == claim.currency],
                    auto_id=f"pay{claim.pk}_%s",
                ),
                "reject_form": forms.get("reject_form")
                if form_for == claim.pk and "reject_form" in forms
                else RejectForm(auto_id=f"reject{claim.pk}_%s"),
                "receipt_form": forms.get("receipt_form")
                if form_for == claim.pk and "receipt_form" in forms
                else ReceiptForm(auto_id=f"receipt{claim.pk}_%s"),
            }
        )
    decided = ReimbursementClaim.objects.filter(
        request__group=group,
        claimant=member,
        decided_at__gte=timezone.now() - DECIDED_CLAIMS_SHOWN_FOR,
    ).select_related("request")
    response = render(
        request,
        "funds/reimbursements.html",
        {
            "group": group,
            "rows": rows,
            "decided": list(decided.order_by("-decided_at")),
            "everyone": everyone,
            "treasurer": treasurer,
            "limit": group.reimbursement_limit_minor,
        },
        status=status,
    )
    add_never_cache_headers(response)
    return response


def _has_receipt(claim: ReimbursementClaim) -> bool:
    try:
        claim.receipt  # noqa: B018
    except Receipt.DoesNotExist:
        return False
    return True


@login_required
@require_GET
def reimbursements(request: HttpRequest, slug: str) -> HttpResponse:
    return _render_reimbursements(request, _group_or_404(slug))


def _claim_or_404(group: Group, pk: int) -> ReimbursementClaim:
    claim = get_object_or_404(
        ReimbursementClaim.objects.select_related("request"), pk=pk, request__group=group
    )
    claim.request.group = group
    return claim


@login_required
@require_POST
def reimbursement_pay(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Pay a claim from a fund: a disbursement that a second member then confirms."""
    group = _group_or_404(slug)
    claim = _claim_or_404(group, pk)
    member = _member(request)
    if not permissions.can_pay_reimbursement(member, claim):
        raise PermissionDenied(_("Only the group's treasurers pay claims back."))
    funds = list(Fund.objects.filter(group=group, currency=claim.currency))
    form = PayClaimForm(request.POST, funds=funds, auto_id=f"pay{claim.pk}_%s")
    if form.is_valid():
        fund = form.cleaned_data["fund"]
        fund.group = group
        try:
            services.disbursement_request(
                fund=fund,
                actor=member,
                amount_minor=claim.amount_minor,
                purpose=_("Paying back what a volunteer spent on request %(reference)s")
                % {"reference": claim.request.reference},
                payee_kind=Disbursement.PayeeKind.REIMBURSEMENT,
                reimbursement=claim,
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request, _("Asked. Another member now confirms the payment before it is made.")
            )
            return redirect("funds:reimbursements", slug=group.slug)
    return _render_reimbursements(request, group, status=400, form_for=claim.pk, pay_form=form)


@login_required
@require_POST
def reimbursement_reject(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    group = _group_or_404(slug)
    claim = _claim_or_404(group, pk)
    member = _member(request)
    if not permissions.can_pay_reimbursement(member, claim):
        raise PermissionDenied(_("Only the group's treasurers decide on claims."))
    form = RejectForm(request.POST, auto_id=f"reject{claim.pk}_%s")
    if form.is_valid():
        try:
            services.reimbursement_reject(
                claim=claim, actor=member, reason=form.cleaned_data["reason"]
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The claim is marked as not paid."))
            return redirect("funds:reimbursements", slug=group.slug)
    return _render_reimbursements(request, group, status=400, form_for=claim.pk, reject_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def receipt_upload(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    group = _group_or_404(slug)
    claim = _claim_or_404(group, pk)
    member = _member(request)
    if not permissions.can_attach_receipt(member, claim):
        raise PermissionDenied(_("Only the member who claims, or a treasurer, adds the receipt."))
    # Bound on every POST, so a POST without a file is told the receipt is missing.
    form = ReceiptForm(request.POST, request.FILES) if request.method == "POST" else ReceiptForm()
    if request.method == "POST" and form.is_valid():
        try:
            services.receipt_attach(claim=claim, actor=member, upload=form.cleaned_data["receipt"])
        except ApplicationError as error:
            form.add_error("receipt", error.message)
        else:
            messages.success(request, _("The receipt is saved with your claim."))
            return redirect("funds:reimbursements", slug=group.slug)
    response = render(
        request,
        "funds/receipt_upload.html",
        {"group": group, "claim": claim, "form": form, "has_receipt": _has_receipt(claim)},
        status=400 if form.errors else 200,
    )
    add_never_cache_headers(response)
    return response


@login_required
@require_GET
def receipt(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """The receipt's bytes, decrypted, to the claimant, treasurers and dispatchers; anyone else
    finds nothing here."""
    group = _group_or_404(slug)
    # Through the claim's own key, whose lookup finds nothing for a number no row can have
    # (past 63 bits) instead of failing in the database.
    found = (
        Receipt.objects.select_related("claim__request")
        .filter(claim__pk=pk, claim__request__group=group)
        .first()
    )
    if found is None:
        raise Http404
    found.claim.request.group = group
    member = _member(request)
    if not permissions.can_view_receipt(member, found):
        raise Http404
    content, content_type = services.receipt_open(
        receipt=found, viewer=member, where=request.get_full_path()[:300]
    )
    response = HttpResponse(content, content_type=content_type)
    extension = {
        "application/pdf": "pdf",
        "image/jpeg": "jpg",
        "image/png": "png",
        "image/webp": "webp",
    }.get(content_type, "bin")
    disposition = "inline" if content_type.startswith("image/") else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="receipt-{pk}.{extension}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "no-store, private"
    return response


# The public summary


@require_GET
def public_summary(request: HttpRequest, slug: str) -> HttpResponse:
    """Totals per fund only, for anyone, when the group chose to publish them."""
    group = _group_or_404(slug)
    if not group.publishes_fund_summary:
        raise Http404
    return render(
        request,
        "funds/public_summary.html",
        {"group": group, "summary": selectors.public_summary(group=group)},
    )
