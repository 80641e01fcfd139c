import gzip
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import override_settings
from django.urls import reverse

from mutualaid.groups import services
from mutualaid.groups.models import Group
from mutualaid.groups.tests.factories import make_group
from mutualaid.people.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HOME = "/"


def make_directory(count: int) -> list[Group]:
    """`count` groups with long-ish names and places, some nested, some with members."""
    founder = UserFactory()
    area = make_group(
        creator=founder,
        name="Greater Manchester Mutual Aid Network",
        place="Greater Manchester",
        members=3,
    )
    groups = [area]
    for n in range(count - 1):
        groups.append(
            make_group(
                creator=founder,
                name=f"Levenshulme and Burnage Ward {n:02d} Mutual Aid",
                place="Levenshulme, Manchester",
                kind=Group.Kind.WARD,
                parent=area,
            )
        )
    return groups


def test_the_home_page_explains_mutual_aid_and_offers_the_next_steps(client):
    response = client.get(HOME)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Give what you can, get what you need." in html
    assert "there is no means testing" in html
    assert '<a class="button" href="#find">Find a group</a>' in html
    assert f'href="{reverse("groups:create")}">Start a group</a>' in html
    assert f'href="{reverse("account_signup")}">Sign up</a>' in html
    assert "There are no groups yet." in html


def test_each_group_is_a_card_with_its_details(client):
    area = make_group(name="Manchester Mutual Aid", place="Manchester", members=2)
    ward = make_group(
        creator=area.created_by,
        name="Levenshulme",
        place="Levenshulme",
        kind=Group.Kind.WARD,
        parent=area,
    )

    html = client.get(HOME).content.decode()

    assert (
        f'<h3><a href="/groups/{ward.slug}/">Levenshulme</a></h3>'
        "<p>Ward · Levenshulme · in Manchester Mutual Aid · 1 member</p>"
        f'<a href="/groups/{ward.slug}/#join">Join<span class="vh"> Levenshulme</span></a>'
    ) in html
    assert "<p>Area · Manchester · 3 members</p>" in html


def test_a_member_sees_view_for_their_own_groups(client):
    mine = make_group(name="Mine")
    make_group(name="Theirs")
    client.force_login(mine.created_by)

    html = client.get(HOME).content.decode()

    assert f'<a href="/groups/{mine.slug}/">View<span class="vh"> Mine</span></a>' in html
    assert 'Join<span class="vh"> Theirs</span>' in html


@pytest.mark.parametrize("q", ["levensh", "LEVENSHULME", "M19"])
def test_search_finds_groups_by_name_or_place(client, q):
    make_group(name="Levenshulme Aid", place="M19")
    make_group(name="Leeds Aid", place="Leeds")

    html = client.get(HOME, {"q": q}).content.decode()

    assert "Levenshulme Aid" in html
    assert "Leeds Aid" not in html
    assert f'value="{q}"' in html
    assert "1 group matches" in html


def test_a_search_that_finds_nothing_says_so(client):
    make_group(name="Leeds Aid")

    html = client.get(HOME, {"q": "Atlantis"}).content.decode()

    assert "No group matches yet." in html
    assert "Leeds Aid" not in html


def test_a_search_with_markup_is_shown_as_text(client):
    html = client.get(HOME, {"q": '"><script>x()</script>'}).content.decode()

    assert "<script>x()</script>" not in html
    assert "&quot;&gt;&lt;script&gt;x()&lt;/script&gt;" in html


def test_an_htmx_search_gets_only_the_results(client):
    make_group(name="Levenshulme Aid")

    response = client.get(
        HOME, {"q": "leven"}, headers={"HX-Request": "true", "HX-Target": "results"}
    )

    html = response.content.decode()
    assert "Levenshulme Aid" in html
    assert "<html" not in html
    assert "HX-Request" in response["Vary"]


def test_an_htmx_history_restore_gets_the_whole_page(client):
    response = client.get(
        HOME,
        {"q": "leven"},
        headers={
            "HX-Request": "true",
            "HX-Target": "results",
            "HX-History-Restore-Request": "true",
        },
    )

    assert "<html" in response.content.decode()


def test_the_search_box_works_without_javascript_and_enhances_with_htmx(client):
    html = client.get(HOME).content.decode()

    assert '<form method="get" action="/" role="search"' in html
    assert '<label for="q">Name or place</label>' in html
    assert 'hx-get="/"' in html
    assert 'hx-target="#results"' in html


def test_the_directory_shows_twenty_groups_a_page(client):
    make_directory(30)

    first = client.get(HOME).content.decode()
    second = client.get(HOME, {"page": 2}).content.decode()

    assert first.count('<li class="card">') == 20
    assert second.count('<li class="card">') == 10
    assert 'rel="next" href="?page=2"' in first
    assert "Page 2 of 2" in second


def test_pages_keep_the_search(client):
    make_directory(30)

    html = client.get(HOME, {"q": "ward"}).content.decode()

    assert 'href="?q=ward&amp;page=2"' in html


def test_the_home_page_is_at_most_14_kb(client):
    make_directory(30)
    client.force_login(UserFactory())

    response = client.get(HOME)

    assert len(response.content) <= 14 * 1024


def test_the_home_page_with_its_style_and_script_is_at_most_50_kb_gzipped(client):
    make_directory(30)

    html = client.get(HOME).content
    assets = [
        Path(finders.find("mutualaid/site.css")),
        Path(finders.find("mutualaid/htmx.min.js")),
    ]
    sizes = [len(gzip.compress(html))] + [len(gzip.compress(path.read_bytes())) for path in assets]

    assert sum(sizes) <= 50 * 1024


def test_the_home_page_loads_no_outside_assets(client):
    html = client.get(HOME).content.decode()

    assert "https://" not in html
    assert "http://" not in html
    assert "//fonts" not in html


def test_the_home_page_has_a_fixed_number_of_queries(client, django_assert_num_queries):
    make_directory(30)

    # count, page of groups (with parents and member counts)
    with django_assert_num_queries(2):
        client.get(HOME)


def test_the_home_page_for_a_member_has_a_fixed_number_of_queries(
    client, django_assert_num_queries
):
    groups = make_directory(30)
    member = UserFactory()
    for group in groups[:5]:
        services.group_join(group=group, member=member)
    client.force_login(member)

    # session, user, count, page, the member's groups
    with django_assert_num_queries(5):
        client.get(HOME)


def test_a_page_number_out_of_range_shows_the_last_page(client):
    make_directory(3)

    response = client.get(HOME, {"page": "99"})

    assert response.status_code == 200
    assert response.content.decode().count('<li class="card">') == 3


# Privacy


def test_the_privacy_page_says_what_is_kept_why_how_long_and_who_sees_it(client):
    response = client.get(reverse("directory:privacy"))

    html = response.content.decode()
    assert response.status_code == 200
    for words in [
        "Your account email address",
        "It is encrypted at rest.",
        "Your phone number and exact address",
        "It may be a pseudonym",
        "rounded to about 1 km",
        "skills, languages and times you are available",
        "A record of your consent",
        "An audit log of who viewed personal data",
        "until you delete your account",
        "it is 90 days unless the group changes it",
        "Other members see your display name only",
        "reach only the volunteer assigned to help them and the group's dispatchers",
        "Every view of personal data is logged",
        "Download all your data as a JSON file",
        "Delete your account from your profile page",
        "no trackers",
        "no external fonts",
        "no content delivery networks",
    ]:
        assert words in html, words


@override_settings(PRIVACY_NOTICE_VERSION="2031-02-03")
def test_the_privacy_page_shows_the_notice_version(client):
    html = client.get(reverse("directory:privacy")).content.decode()

    assert "Version 2031-02-03 of this notice." in html


def test_every_page_links_to_the_privacy_notice(client):
    html = client.get(HOME).content.decode()

    assert f'<a href="{reverse("directory:privacy")}">Privacy</a>' in html
