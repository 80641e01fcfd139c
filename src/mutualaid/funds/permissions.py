"""Who may see and do what with a group's funds. The only place that is decided.

The books are open: every member sees every fund and every movement. Money moves by the hands
of the group's treasurers, and a second member confirms each spend under the group's limit.
Receipts are personal: the claimant, the treasurers who pay and the dispatchers who check.
"""

from typing import Any

from mutualaid.funds.models import Disbursement, Fund, Receipt, Transaction
from mutualaid.groups.models import Group, Role
from mutualaid.groups.permissions import holds_role, is_member
from mutualaid.needs.models import ReimbursementClaim


def _group(obj: Any) -> Group:
    """The group a fund, a transaction, a disbursement, a claim or a receipt belongs to."""
    if isinstance(obj, Group):
        return obj
    if isinstance(obj, Fund):
        return obj.group
    if isinstance(obj, Transaction | Disbursement):
        return obj.fund.group
    if isinstance(obj, ReimbursementClaim):
        return obj.request.group
    if isinstance(obj, Receipt):
        return obj.claim.request.group
    raise TypeError(f"No group for {type(obj).__name__}")


def _is_authenticated(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def is_treasurer(user: Any, obj: Any) -> bool:
    return holds_role(user, _group(obj), Role.TREASURER)


def can_view_books(user: Any, fund_or_group: Fund | Group) -> bool:
    """Every member reads the books of every fund of their group."""
    return is_member(user, _group(fund_or_group))


def can_manage_fund(user: Any, fund_or_group: Fund | Group) -> bool:
    """Treasurers and stewards open funds and edit their name and purpose."""
    group = _group(fund_or_group)
    return holds_role(user, group, Role.TREASURER) or holds_role(user, group, Role.STEWARD)


def can_record_contribution(user: Any, fund_or_group: Fund | Group) -> bool:
    return is_treasurer(user, fund_or_group)


def can_request_disbursement(user: Any, fund_or_group: Fund | Group) -> bool:
    return is_treasurer(user, fund_or_group)


def can_confirm_disbursement(user: Any, disbursement: Disbursement) -> bool:
    """The two-person rule: a member other than the one who asked for the payment confirms it,
    and never the volunteer it pays back."""
    if not _is_authenticated(user) or user.pk == disbursement.requested_by_id:
        return False
    if disbursement.reimbursement_id is not None:
        claim = disbursement.reimbursement
        if claim is not None and claim.claimant_id == user.pk:
            return False
    return is_member(user, disbursement.fund.group)


def can_pay_disbursement(user: Any, disbursement: Disbursement) -> bool:
    """A treasurer pays an approved disbursement that waited for money or a receipt."""
    return is_treasurer(user, disbursement)


def can_cancel_disbursement(user: Any, disbursement: Disbursement) -> bool:
    return is_treasurer(user, disbursement)


def can_reverse(user: Any, transaction: Transaction | Fund | Group) -> bool:
    return is_treasurer(user, transaction)


def can_pay_reimbursement(user: Any, claim_or_group: ReimbursementClaim | Fund | Group) -> bool:
    return is_treasurer(user, claim_or_group)


def can_view_all_claims(user: Any, group: Group) -> bool:
    """Treasurers pay the claims and dispatchers check them; other members see their own."""
    return is_treasurer(user, group) or holds_role(user, group, Role.DISPATCHER)


def can_view_receipt(user: Any, receipt: Receipt) -> bool:
    """The claimant, the group's treasurers (who pay) and dispatchers (who check)."""
    if not _is_authenticated(user):
        return False
    if user.pk == receipt.claim.claimant_id:
        return True
    group = _group(receipt)
    return holds_role(user, group, Role.TREASURER) or holds_role(user, group, Role.DISPATCHER)


def can_attach_receipt(user: Any, claim: ReimbursementClaim) -> bool:
    """The volunteer who claims, or a treasurer on their behalf."""
    if not _is_authenticated(user):
        return False
    return user.pk == claim.claimant_id or is_treasurer(user, claim)
