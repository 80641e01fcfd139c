from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mutualaid.common.fields import EncryptedEmailField, EncryptedTextField

# Languages members speak and groups work in (ISO 639-1). Not the interface languages.
SPOKEN_LANGUAGES = [
    ("ar", _("Arabic")),
    ("bn", _("Bengali")),
    ("zh", _("Chinese")),
    ("en", _("English")),
    ("fr", _("French")),
    ("de", _("German")),
    ("gu", _("Gujarati")),
    ("hi", _("Hindi")),
    ("it", _("Italian")),
    ("ku", _("Kurdish")),
    ("fa", _("Persian")),
    ("pl", _("Polish")),
    ("pt", _("Portuguese")),
    ("pa", _("Punjabi")),
    ("ro", _("Romanian")),
    ("so", _("Somali")),
    ("es", _("Spanish")),
    ("ti", _("Tigrinya")),
    ("tr", _("Turkish")),
    ("uk", _("Ukrainian")),
    ("ur", _("Urdu")),
    ("cy", _("Welsh")),
]

WEEKDAYS = [
    _("Monday"),
    _("Tuesday"),
    _("Wednesday"),
    _("Thursday"),
    _("Friday"),
    _("Saturday"),
    _("Sunday"),
]
DAY_PARTS = [_("morning"), _("afternoon"), _("evening")]


def availability_bit(day: int, part: int) -> int:
    """The bit for weekday `day` (0 = Monday) and `part` (0 morning, 1 afternoon, 2 evening)."""
    return 1 << (day * len(DAY_PARTS) + part)


ALL_WEEK = (1 << (len(WEEKDAYS) * len(DAY_PARTS))) - 1


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: object) -> "User":
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: object) -> "User":
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class Skill(models.Model):
    """Something a member can do. Skills with no group are offered everywhere; a group can
    add its own."""

    name = models.CharField(max_length=60)
    group = models.ForeignKey(
        "groups.Group", null=True, blank=True, on_delete=models.CASCADE, related_name="skills"
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            # Names are unique ignoring case: "Bike repair" and "bike repair" are one skill.
            models.UniqueConstraint(Lower("name"), "group", name="skill_unique_name_per_group"),
            models.UniqueConstraint(
                Lower("name"), condition=models.Q(group=None), name="skill_unique_shared_name"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class User(AbstractBaseUser, PermissionsMixin):
    """A member: an account with a pseudonymous display name and a rough home area.

    Email, phone and exact address are encrypted at rest; everything a group sees is the display
    name and the rough location.
    """

    email = EncryptedEmailField(_("email address"), unique=True)
    display_name = models.CharField(
        _("display name"),
        max_length=60,
        help_text=_("What other members see. A pseudonym is fine."),
    )
    phone = EncryptedTextField(_("phone"), blank=True)
    address = EncryptedTextField(_("exact address"), blank=True)

    languages = models.JSONField(_("languages you speak"), default=list, blank=True)
    skills = models.ManyToManyField(Skill, blank=True, related_name="members")
    availability = models.PositiveIntegerField(
        _("weekly availability"),
        default=0,
        validators=[MaxValueValidator(ALL_WEEK)],
        help_text="Bit day*3+part; day 0 is Monday; part 0 morning, 1 afternoon, 2 evening.",
    )
    home_area = models.CharField(
        _("home area"),
        max_length=60,
        blank=True,
        help_text=_("A postcode area or neighbourhood name, e.g. M14 or Levenshulme."),
    )
    home_latitude = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    home_longitude = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    travel_km = models.PositiveSmallIntegerField(
        _("how far you will travel (km)"),
        default=3,
        validators=[MinValueValidator(0), MaxValueValidator(200)],
    )
    max_open_tasks = models.PositiveSmallIntegerField(
        _("at most this many requests at a time"),
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text=_("Nobody will propose more to you while you hold this many."),
    )
    on_duty_until = models.DateTimeField(
        _("on duty until"),
        null=True,
        blank=True,
        help_text=_("While on duty you come first in suggestions for requests near you."),
    )

    notify_by_email = models.BooleanField(_("email me about new requests near me"), default=True)
    notify_digest = models.BooleanField(_("send one daily summary instead"), default=False)
    notify_max_per_day = models.PositiveSmallIntegerField(
        _("at most this many emails about new requests a day"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
    )

    consent_version = models.CharField(max_length=20, blank=True)
    consent_at = models.DateTimeField(null=True, blank=True)

    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    erased_at = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["display_name"]

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(home_latitude__gte=-90, home_latitude__lte=90)
                | models.Q(home_latitude=None),
                name="user_home_latitude_range",
            ),
            models.CheckConstraint(
                condition=models.Q(home_longitude__gte=-180, home_longitude__lte=180)
                | models.Q(home_longitude=None),
                name="user_home_longitude_range",
            ),
        ]

    def __str__(self) -> str:
        return self.public_name

    @property
    def public_name(self) -> str:
        if self.erased_at:
            return str(_("former member"))
        return self.display_name or str(_("member"))

    def get_full_name(self) -> str:
        return self.public_name

    def get_short_name(self) -> str:
        return self.public_name


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 digest is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=60)
    prefix = models.CharField(max_length=12, help_text="The first characters, to recognise it.")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
