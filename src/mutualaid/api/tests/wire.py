"""How a client writes a token and how the API writes values, for exact assertions."""

from datetime import datetime

from django.core.serializers.json import DjangoJSONEncoder


def bearer(raw_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw_token}"}


def as_json_time(value: datetime) -> str:
    return DjangoJSONEncoder().default(value)
