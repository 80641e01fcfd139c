"""The monthly chart: well-formed SVG with exact bar heights, readable without colour or
sight, and only members may fetch it."""

from datetime import date
from xml.etree import ElementTree

import pytest
from django.utils import timezone

from mutualaid.funds.charts import PLOT_HEIGHT, TOP, bar_heights, monthly_chart_svg
from mutualaid.funds.models import Disbursement
from mutualaid.funds.tests.test_views_support import (
    SECRET_NAME,
    Books,
    books_fixture,  # noqa: F401 (the fixture `books`)
    contribute,
    logged_in,
    pay,
)

SVG = "{http://www.w3.org/2000/svg}"
MONTHS = [(date(2025, 1, 1), 10000, 5000), (date(2025, 2, 1), 2500, 0), (date(2025, 3, 1), 0, 0)]


def parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)  # noqa: S314 (our own output)


def bars(root: ElementTree.Element, kind: str) -> list[dict[str, str]]:
    return [rect.attrib for rect in root.iter(f"{SVG}rect") if rect.get("class") == kind]


def test_the_largest_amount_is_drawn_full_height_and_the_rest_in_proportion() -> None:
    root = parse(monthly_chart_svg(months=MONTHS, currency="GBP", title="Hardship fund"))

    assert [bar["height"] for bar in bars(root, "in")] == ["150", "37.5", "0"]
    assert [bar["height"] for bar in bars(root, "out")] == ["75", "0", "0"]
    baseline = TOP + PLOT_HEIGHT
    assert [bar["y"] for bar in bars(root, "in")] == [
        str(baseline - 150),
        str(baseline - 37.5),
        str(baseline),
    ]


def test_heights_are_rounded_to_two_places() -> None:
    assert [(b.in_height, b.out_height) for b in bar_heights([(date(2025, 1, 1), 300, 100)])] == [
        (150.0, 50.0)
    ]
    assert bar_heights([(date(2025, 1, 1), 700, 100)])[0].out_height == 21.43


def test_the_chart_has_a_title_a_description_and_words_for_each_bar() -> None:
    root = parse(monthly_chart_svg(months=MONTHS, currency="GBP", title="Hardship fund"))

    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "fund-chart-title fund-chart-desc"
    assert root.find(f"{SVG}title").text == "Hardship fund"  # type: ignore[union-attr]
    assert root.find(f"{SVG}desc").text == (  # type: ignore[union-attr]
        "Money in and money out of the fund each month from Jan 2025 to Mar 2025. "
        "The same figures are in the table below the chart."
    )
    assert [
        rect.find(f"{SVG}title").text for rect in root.iter(f"{SVG}rect") if rect.get("class")
    ] == [  # type: ignore[union-attr]
        "Jan 2025: £100.00 in",
        "Jan 2025: £50.00 out",
        "Feb 2025: £25.00 in",
        "Feb 2025: £0.00 out",
        "Mar 2025: £0.00 in",
        "Mar 2025: £0.00 out",
    ]
    labels = [text.text for text in root.iter(f"{SVG}text")]
    assert labels == ["In", "Out", "Jan", "2025", "Feb", "Mar"]


def test_text_is_escaped_so_a_name_cannot_become_markup() -> None:
    svg = monthly_chart_svg(
        months=MONTHS, currency="GBP", title='Rent & food <script>alert("x")</script>'
    )

    root = parse(svg)
    assert "<script>" not in svg
    assert root.find(f"{SVG}title").text == 'Rent & food <script>alert("x")</script>'  # type: ignore[union-attr]
    assert list(root.iter(f"{SVG}script")) == []


def test_a_chart_with_no_movements_is_still_well_formed() -> None:
    root = parse(monthly_chart_svg(months=[], currency="GBP", title="New fund"))

    assert bars(root, "in") == []
    assert root.find(f"{SVG}desc").text == "Nothing has moved in this fund yet."  # type: ignore[union-attr]


# The chart as an image of its own


@pytest.mark.django_db
def test_members_fetch_the_chart_as_svg_without_any_requester_name(books: Books) -> None:
    contribute(books, 10000)
    pay(books, 2500, payee_kind=Disbursement.PayeeKind.REQUEST, request=books.request)

    response = logged_in(books.member).get(books.url("chart", books.fund.pk))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
    assert response["X-Content-Type-Options"] == "nosniff"
    svg = response.content.decode()
    assert SECRET_NAME not in svg
    root = parse(svg)
    month = timezone.localdate().strftime("%b %Y")
    assert [bar["height"] for bar in bars(root, "in")][-1] == "150"
    assert [bar["height"] for bar in bars(root, "out")][-1] == "37.5"
    assert root.find(f"{SVG}title").text == "Money in and out of Hardship fund, month by month"  # type: ignore[union-attr]
    assert f"{month}: £100.00 in" in svg


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["outsider", "anonymous"])
def test_people_outside_the_group_cannot_fetch_the_chart(books: Books, who: str) -> None:
    response = logged_in(books.outsider if who == "outsider" else None).get(
        books.url("chart", books.fund.pk)
    )

    assert response.status_code == (403 if who == "outsider" else 302)
