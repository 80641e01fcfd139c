import pytest

from mutualaid.api.tests.wire import bearer
from mutualaid.people.models import User
from mutualaid.people.services import api_token_create
from mutualaid.people.tests.factories import UserFactory


@pytest.fixture
def member(db: None) -> User:
    return UserFactory(display_name="Rosa")


@pytest.fixture
def token(member: User) -> str:
    _token, raw = api_token_create(user=member, name="laptop")
    return raw


@pytest.fixture
def auth(token: str) -> dict[str, str]:
    return bearer(token)
