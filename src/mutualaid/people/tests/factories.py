from decimal import Decimal

import factory
from allauth.account.models import EmailAddress

from mutualaid.people.models import User


class UserFactory(factory.django.DjangoModelFactory):
    """A member with a verified login address, as after signing up."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"member{n}@example.org")
    display_name = factory.Sequence(lambda n: f"Neighbour {n}")
    languages = factory.LazyFunction(lambda: ["en"])
    home_area = "M14"
    home_latitude = Decimal("53.45")
    home_longitude = Decimal("-2.22")
    password = factory.django.Password("correct horse battery staple")

    @factory.post_generation
    def verified_email(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)
