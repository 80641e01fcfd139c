"""Measurements inside this process: pages through Django's test client (no network), SQL
query counts, the cost of encrypting personal data and of finding a member by email."""

import hashlib
import itertools
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from time import perf_counter

from allauth.account.internal.userkit import filter_users_by_email
from cryptography.fernet import Fernet
from django.conf import settings
from django.db import connection, reset_queries
from django.http import HttpResponse, HttpResponseBase
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from stats import median, timed

from mutualaid.common import crypto
from mutualaid.people.models import User
from mutualaid.people.services import api_token_authenticate


@dataclass(frozen=True)
class Target:
    """A page or endpoint to measure, with the headers that make its caller who they are. A
    POST sends `body` as JSON; `status` is the answer every request must get."""

    name: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "GET"
    body: str = ""
    status: int = 200


def send(client: Client, target: Target) -> HttpResponseBase:
    if target.method == "GET":
        return client.get(target.path, headers=target.headers)
    return client.generic(
        target.method,
        target.path,
        target.body,
        content_type="application/json",
        headers=target.headers,
    )


@dataclass
class PageResult:
    target: Target
    status: int
    size: int
    queries: set[int] = field(default_factory=set)
    seconds: list[float] = field(default_factory=list)  # the median of each run


def pages(targets: Sequence[Target], *, runs: int, repeats: int) -> list[PageResult]:
    """Each target `repeats` times per run; the median per run, and the queries one request
    makes (captured apart from the timed requests, since capturing costs time too)."""
    client = Client(HTTP_HOST="127.0.0.1")
    results = []
    for target in targets:  # warm up: templates compiled, caches filled
        response = _checked(send(client, target), target.status)
        results.append(PageResult(target, response.status_code, len(response.content)))
    for _ in range(runs):
        for result in results:
            target = result.target
            reset_queries()
            with CaptureQueriesContext(connection) as queries:
                _checked(send(client, target), target.status)
            result.queries.add(len(queries))
            times = [timed(lambda t=target: send(client, t)) for _ in range(repeats)]
            result.seconds.append(median(times))
    return results


def _checked(response: HttpResponseBase, status: int) -> HttpResponse:
    if response.status_code != status:
        raise RuntimeError(f"{response.request['PATH_INFO']} answered {response.status_code}")
    assert isinstance(response, HttpResponse)
    return response


def claims(
    name: str, pool: Iterator[int], tokens: Sequence[str], *, runs: int, repeats: int
) -> PageResult:
    """Claiming open requests through the API, each a different request, by the members of
    `tokens` in turn: `repeats` claims per run, and the queries of one more (its token used
    just before, so the once-a-minute update of the token's last use is not counted)."""
    client = Client(HTTP_HOST="127.0.0.1")
    members = itertools.cycle(tokens)

    def claim(token: str) -> HttpResponse:
        response = client.post(
            f"/api/requests/{next(pool)}/claim", headers={"Authorization": f"Bearer {token}"}
        )
        return _checked(response, 200)

    response = claim(next(members))  # warm up
    result = PageResult(Target(name, "/api/requests/{id}/claim"), 200, len(response.content))
    for _ in range(runs):
        token = next(members)
        api_token_authenticate(raw_token=token)
        with CaptureQueriesContext(connection) as queries:
            claim(token)
        result.queries.add(len(queries))
        times = [timed(lambda: claim(next(members))) for _ in range(repeats)]
        result.seconds.append(median(times))
    return result


@dataclass
class CostResult:
    name: str
    seconds: list[float] = field(default_factory=list)  # one total per run
    count: int = 0


def _timed_map(function: Callable[[str], str], values: Sequence[str]) -> tuple[float, list[str]]:
    started = perf_counter()
    results = [function(value) for value in values]
    return perf_counter() - started, results


def crypto_costs(emails: Sequence[str], *, runs: int, count: int = 10_000) -> list[CostResult]:
    """Encrypting and decrypting `count` phone numbers (Fernet) and email addresses (AES-SIV),
    against SHA-256 of the same phone numbers as the baseline."""
    phones = [f"+44 7700 9{i:05d}" for i in range(count)]
    emails = list(emails[:count])
    baseline = CostResult("Baseline: SHA-256 of 10,000 phone numbers", count=count)
    fernet_encrypt = CostResult("Fernet: encrypt 10,000 phone numbers", count=count)
    fernet_decrypt = CostResult("Fernet: decrypt 10,000 phone numbers", count=count)
    siv_encrypt = CostResult("AES-SIV: encrypt 10,000 email addresses", count=count)
    siv_decrypt = CostResult("AES-SIV: decrypt 10,000 email addresses", count=count)
    for _ in range(runs):
        baseline.seconds.append(
            timed(lambda: [hashlib.sha256(p.encode()).hexdigest() for p in phones])
        )
        seconds, tokens = _timed_map(crypto.encrypt, phones)
        fernet_encrypt.seconds.append(seconds)
        seconds, clear = _timed_map(crypto.decrypt, tokens)
        fernet_decrypt.seconds.append(seconds)
        assert clear == phones
        seconds, tokens = _timed_map(crypto.encrypt_deterministic, emails)
        siv_encrypt.seconds.append(seconds)
        seconds, clear = _timed_map(crypto.decrypt_deterministic, tokens)
        siv_decrypt.seconds.append(seconds)
        assert clear == emails
    return [baseline, fernet_encrypt, fernet_decrypt, siv_encrypt, siv_decrypt]


def _per_call(function: Callable[[object], object], items: Sequence[object]) -> float:
    """The median time of one call over `items`."""
    return median([timed(lambda item=item: function(item)) for item in items])


def lookups(emails: Sequence[str], *, runs: int, samples: int) -> tuple[list[CostResult], str]:
    """Finding one member among all of them: by primary key (the baseline), by email (an IN
    over the ciphertexts under every key, on the unique index), as allauth does at login, and
    by an unindexed column for contrast. Also the query plan of the email lookup."""
    rng = random.Random(7)
    chosen = rng.sample(list(emails), samples)
    pks = list(User.objects.filter(email__in=chosen).values_list("pk", flat=True))
    names = list(User.objects.filter(pk__in=pks).values_list("display_name", flat=True))
    rotation_keys = [Fernet.generate_key().decode(), *settings.MUTUALAID_FIELD_KEYS]

    def by_email(email: object) -> None:
        User.objects.get(email=email)

    def at_login(email: object) -> None:
        found = filter_users_by_email(
            str(email), is_active=True, prefer_verified=True, for_login=True
        )
        assert len(found) == 1

    rows = [
        CostResult("Baseline: `User.objects.get(pk=…)`"),
        CostResult("`User.objects.get(email=…)` (one key)"),
        CostResult("`User.objects.get(email=…)` while rotating keys (two keys)"),
        CostResult("allauth's login lookup (`filter_users_by_email`)"),
        CostResult("Contrast: unindexed `User.objects.get(display_name=…)`"),
    ]
    for _ in range(runs):
        rows[0].seconds.append(_per_call(lambda pk: User.objects.get(pk=pk), pks))
        rows[1].seconds.append(_per_call(by_email, chosen))
        with override_settings(MUTUALAID_FIELD_KEYS=rotation_keys):
            rows[2].seconds.append(_per_call(by_email, chosen))
        rows[3].seconds.append(_per_call(at_login, chosen))
        rows[4].seconds.append(
            _per_call(lambda name: User.objects.get(display_name=name), names[:20])
        )
    for row in rows:
        row.count = 1
    plan = User.objects.filter(email=chosen[0]).explain()
    return rows, plan
