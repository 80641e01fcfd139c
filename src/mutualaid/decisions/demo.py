"""The demo group's proposals: decided ones (a payment, a role renewed, one blocked) and open
ones with stances and discussion, made through the same services as real use. Decided ones
are opened now and then moved back to the week they ran, before they are closed."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from mutualaid.decisions import services
from mutualaid.decisions.models import Proposal, Stance
from mutualaid.funds.models import Disbursement, Fund
from mutualaid.groups.models import Group, Role, RoleGrant
from mutualaid.needs.models import Request
from mutualaid.people.models import User

AGREE, ABSTAIN, DISAGREE, BLOCK = (
    Stance.Position.AGREE,
    Stance.Position.ABSTAIN,
    Stance.Position.DISAGREE,
    Stance.Position.BLOCK,
)


@dataclass(frozen=True)
class DemoProposal:
    kind: str
    title: str
    text: str
    stances: tuple[tuple[str, str], ...]
    comments: tuple[str, ...] = ()
    opened_days_ago: int = 0
    open_days: int = 7
    effect: dict[str, Any] = field(default_factory=dict)


def load_decisions_demo(
    *, group: Group, members: list[User], treasurer: User, hardship_fund: Fund
) -> int:
    """Six proposals in `group`; answers how many. `members` take the stances in turn."""
    now = timezone.now()
    grant = RoleGrant.objects.in_force().get(group=group, holder=treasurer, role=Role.TREASURER)
    meter = Request.objects.filter(
        group=group, category="money", status=Request.Status.OPEN
    ).first()

    decided = [
        DemoProposal(
            Proposal.Kind.SPEND,
            "Pay for a neighbour's cooker repair",
            "A family of five in Longsight has had no working cooker for two weeks. The repair "
            "is quoted at £120, more than we spend without asking. I propose we pay the repair "
            "shop directly from the hardship fund.",
            stances=(
                (AGREE, ""),
                (AGREE, "Yes, and let's ask the shop about a discount for us next time."),
                (AGREE, ""),
                (ABSTAIN, ""),
                (AGREE, ""),
                (AGREE, ""),
            ),
            comments=("I can let them in on Tuesday when the engineer comes.",),
            opened_days_ago=7,
            effect={"payee": "Levenshulme Appliance Repairs", "amount_minor": 12000},
        ),
        DemoProposal(
            Proposal.Kind.ROLE_RENEW,
            f"Keep {treasurer.display_name} as treasurer for six more months",
            "The books are in good order and every payment has been confirmed by a second "
            "member. I propose we renew the treasurer role for 180 days.",
            stances=(
                (AGREE, ""),
                (AGREE, ""),
                (ABSTAIN, ""),
                (AGREE, "Thank you for the work."),
                (AGREE, ""),
                (AGREE, ""),
            ),
            opened_days_ago=14,
            effect={"grant": grant.pk, "days": 180},
        ),
        DemoProposal(
            Proposal.Kind.GENERAL,
            "Hand out supermarket vouchers instead of cash",
            "Vouchers would let donors know exactly what their money buys.",
            stances=(
                (
                    BLOCK,
                    "Vouchers tie people to one shop and feel like charity. Cash respects "
                    "people's own choices, which is the point of mutual aid.",
                ),
                (DISAGREE, "Most corner shops near me don't take them."),
                (AGREE, ""),
                (ABSTAIN, ""),
                (AGREE, ""),
            ),
            comments=(
                "Could we offer both, and let people choose?",
                "That would be a new proposal; happy to write it.",
            ),
            opened_days_ago=30,
        ),
    ]
    still_open = [
        DemoProposal(
            Proposal.Kind.GENERAL,
            "Move the Thursday meeting to 6pm",
            "Several parents can't make 5pm because of the school run. I propose we meet at "
            "6pm from next month, same room at the community centre.",
            stances=(
                (AGREE, ""),
                (AGREE, "6pm works much better for me."),
                (DISAGREE, "I work late on Thursdays; could we alternate?"),
            ),
            comments=("We could try it for a month and see who comes.",),
            open_days=2,
        ),
        DemoProposal(
            Proposal.Kind.POLICY,
            "Raise the spending limit to £75",
            "Meter top-ups and school uniforms often cost a little more than £50. A limit of "
            "£75 would let two members settle them the same day.",
            stances=(
                (AGREE, ""),
                (DISAGREE, "I'd rather keep decisions about money with the group."),
            ),
            open_days=6,
            effect={"changes": {"spending_limit_minor": 7500}},
        ),
    ]
    if meter is not None:
        still_open.insert(
            0,
            DemoProposal(
                Proposal.Kind.SPEND,
                f"£40 for a neighbour's electric meter ({meter.reference})",
                "A neighbour is £40 short for the electric meter this week after their hours "
                "were cut. It's within our usual help, and I'd rather the group sees it.",
                stances=((AGREE, ""), (AGREE, ""), (ABSTAIN, "")),
                open_days=4,
                effect={"request": meter, "amount_minor": 4000},
            ),
        )

    proposers = members[1:] + members[:1]
    for index, item in enumerate(decided + still_open):
        proposer = proposers[index % len(proposers)]
        voters = [member for member in members if member != proposer]
        opened = now - timedelta(days=item.opened_days_ago)
        proposal = services.proposal_create(
            group=group,
            proposer=proposer,
            kind=item.kind,
            title=item.title,
            text=item.text,
            closes_at=now + timedelta(days=item.open_days),
            effect=None
            if item.kind in (Proposal.Kind.SPEND, Proposal.Kind.GENERAL)
            else item.effect,
            spend=_spend(item, hardship_fund),
        )
        for (position, reason), member in zip(item.stances, voters, strict=False):
            services.stance_take(proposal=proposal, member=member, position=position, reason=reason)
        for turn, text in enumerate(item.comments):
            services.comment_add(proposal=proposal, author=voters[turn % len(voters)], text=text)
        if item.opened_days_ago:
            _move_back(proposal, opened=opened, closes=opened + timedelta(days=item.open_days))
            services.proposal_close(
                proposal=proposal, now=min(now, opened + timedelta(days=item.open_days))
            )
    return len(decided) + len(still_open)


def _spend(item: DemoProposal, fund: Fund) -> services.SpendDetails | None:
    if item.kind != Proposal.Kind.SPEND:
        return None
    request = item.effect.get("request")
    return services.SpendDetails(
        fund=fund,
        amount_minor=item.effect["amount_minor"],
        purpose="Electricity meter top-up" if request else "Cooker repair for a family",
        payee_kind=Disbursement.PayeeKind.REQUEST if request else Disbursement.PayeeKind.PAYEE,
        request=request,
        payee_name=item.effect.get("payee", ""),
    )


def _move_back(proposal: Proposal, *, opened: datetime, closes: datetime) -> None:
    """A decided proposal ran in the past: its opening, stances and comments move back to it."""
    Proposal.objects.filter(pk=proposal.pk).update(
        created_at=opened, round_started_at=opened, closes_at=closes
    )
    proposal.stances.update(
        created_at=opened + timedelta(hours=5), updated_at=opened + timedelta(hours=5)
    )
    proposal.comments.update(created_at=opened + timedelta(hours=8))
    proposal.refresh_from_db()
