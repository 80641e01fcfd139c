from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "mutualaid.people"
    label = "people"
    verbose_name = "People"

    def ready(self) -> None:
        # allauth keeps each login address in its own EmailAddress table. Swapping that field's
        # class for the encrypted one keeps those addresses encrypted at rest like ours; allauth
        # only ever compares them with exact and `in` lookups, which the encrypted field supports.
        from allauth.account.models import EmailAddress

        from mutualaid.common.fields import EncryptedAllauthEmailField

        EmailAddress._meta.get_field("email").__class__ = EncryptedAllauthEmailField
