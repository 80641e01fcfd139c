"""English and Spanish: switching language, and a Spanish catalogue that covers every string.

The catalogue checks read the source the way `makemessages` does, so a new string that has no
Spanish translation (or a .mo file that was not compiled again) fails here, not in front of a
Spanish-speaking member.
"""

import ast
import gettext
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation.template import templatize

from mutualaid.groups.tests.factories import make_group
from mutualaid.people.models import Skill
from mutualaid.people.tests.factories import UserFactory

PACKAGE_DIR = Path(settings.PACKAGE_DIR)
SPANISH_PO = PACKAGE_DIR / "locale" / "es" / "LC_MESSAGES" / "django.po"
SPANISH_MO = SPANISH_PO.with_suffix(".mo")

HOME_HEADING_ES = '<h1 id="intro-heading">Ayuda mutua: vecinas y vecinos que se ayudan</h1>'
HOME_HEADING_EN = '<h1 id="intro-heading">Mutual aid: neighbours helping neighbours</h1>'


@pytest.fixture(autouse=True)
def _default_language_afterwards() -> Iterator[None]:
    """A request in Spanish leaves Spanish active in this thread; later tests expect English."""
    yield
    translation.deactivate()


def _in_spanish(client: Client) -> Client:
    response = client.post(reverse("set_language"), {"language": "es", "next": "/"})
    assert response.status_code == 302
    return client


# --- Switching language --------------------------------------------------------------------


@pytest.mark.django_db
def test_choosing_spanish_in_the_footer_shows_the_site_in_spanish(client: Client) -> None:
    # given: the footer offers both languages, English chosen
    html = client.get("/").content.decode()
    assert '<option value="en" selected>English</option>' in html
    assert '<option value="es">español</option>' in html

    # when
    response = client.post(reverse("set_language"), {"language": "es", "next": "/"})

    # then
    assert response.status_code == 302
    assert response["Location"] == "/"
    html = client.get("/").content.decode()
    assert '<html lang="es">' in html
    assert HOME_HEADING_ES in html
    assert '<option value="es" selected>español</option>' in html
    assert '<label for="language">Idioma</label>' in html
    assert "<title>Ayuda Mutua</title>" in html


@pytest.mark.django_db
def test_choosing_english_again_switches_back(client: Client) -> None:
    # given
    _in_spanish(client)

    # when
    client.post(reverse("set_language"), {"language": "en", "next": "/"})

    # then
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html
    assert HOME_HEADING_EN in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("accept_language", "language", "heading"),
    [
        pytest.param("es-MX,es;q=0.9,en;q=0.5", "es", HOME_HEADING_ES, id="spanish"),
        pytest.param("de", "en", HOME_HEADING_EN, id="unoffered-gets-english"),
    ],
)
def test_a_browser_gets_the_language_it_asks_for_or_english(
    client: Client, accept_language: str, language: str, heading: str
) -> None:
    # when
    response = client.get("/", headers={"accept-language": accept_language})

    # then
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    assert heading in html


@pytest.mark.django_db
def test_an_unknown_language_choice_is_ignored(client: Client) -> None:
    # when
    client.post(reverse("set_language"), {"language": "xx", "next": "/"})

    # then
    assert HOME_HEADING_EN in client.get("/").content.decode()


# --- Pages in Spanish ----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("page", "spanish"),
    [
        ("home", HOME_HEADING_ES),
        ("privacy", "<h1>Privacidad: qué guardamos sobre ti y por qué</h1>"),
        ("signup", "<h1>Registrarse</h1>"),
        ("login", "<h1>Iniciar sesión</h1>"),
        ("group", '<h2 id="about-heading">Sobre el grupo</h2>'),
    ],
)
def test_public_pages_render_in_spanish(client: Client, page: str, spanish: str) -> None:
    # given
    group = make_group(name="Levenshulme", place="Manchester", members=1)
    urls = {
        "home": reverse("directory:home"),
        "privacy": reverse("directory:privacy"),
        "signup": reverse("account_signup"),
        "login": reverse("account_login"),
        "group": group.get_absolute_url(),
    }
    _in_spanish(client)

    # when
    response = client.get(urls[page])

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="es">' in html
    assert spanish in html


@pytest.mark.django_db
def test_group_page_for_a_member_renders_in_spanish(client: Client) -> None:
    # given
    member = UserFactory(display_name="Rosa")
    group = make_group(creator=member, name="Levenshulme", members=2)
    client.force_login(member)
    _in_spanish(client)

    # when
    response = client.get(group.get_absolute_url())

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert '<h2 id="join-heading">Eres miembro</h2>' in html
    assert "3 miembros" in html
    assert "<h3>Administrador/a del grupo: Rosa</h3>" in html
    assert '<h2 id="propose-heading">Proponer</h2>' in html


@pytest.mark.django_db
def test_profile_page_renders_in_spanish(client: Client) -> None:
    # given: a shared skill (seeded in English) and one a group added in Spanish
    Skill.objects.get_or_create(name="Dog walking", group=None)
    member = UserFactory()
    group = make_group(creator=member, name="Burnage")
    Skill.objects.create(name="Costura", group=group)
    client.force_login(member)
    _in_spanish(client)

    # when
    response = client.get(reverse("people:profile"))

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Tu perfil</h1>" in html
    assert '<th scope="row">Sábado</th>' in html
    assert ">Sábado por la mañana</label>" in html
    assert '<label for="id_display_name">Nombre visible:</label>' in html
    assert " Paseo de perros</label>" in html
    assert " Costura (Burnage)</label>" in html
    assert "Dog walking" not in html


@pytest.mark.django_db
def test_the_shared_skills_are_listed_in_spanish(client: Client) -> None:
    # given
    Skill.objects.get_or_create(name="Dog walking", group=None)
    group = make_group(name="Burnage")
    Skill.objects.create(name="Costura", group=group)
    _in_spanish(client)

    # when
    response = client.get(reverse("groups:skills", args=[group.slug]))

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "<li>Paseo de perros</li>" in html
    assert "<li>Costura</li>" in html


@pytest.mark.django_db
def test_a_success_message_is_shown_in_spanish(client: Client) -> None:
    # given
    member = UserFactory()
    group = make_group(name="Burnage")
    client.force_login(member)
    _in_spanish(client)

    # when
    response = client.post(reverse("groups:join", args=[group.slug]), follow=True)

    # then
    assert "Ya eres miembro de Burnage." in response.content.decode()


@pytest.mark.django_db
def test_a_form_error_with_a_number_is_shown_in_spanish(client: Client) -> None:
    # given: a currency without cents and an amount with cents
    client.force_login(UserFactory())
    _in_spanish(client)
    data = {
        "name": "Burnage",
        "kind": "area",
        "centre_latitude": "53.43",
        "centre_longitude": "-2.2",
        "radius_km": "2",
        "retention_days": "90",
        "spending_limit": "50.5",
        "currency": "JPY",
    }

    # when
    response = client.post(reverse("groups:create"), data)

    # then
    assert response.status_code == 200
    assert "Esta moneda no admite más de 0 decimales." in response.content.decode()


@pytest.mark.django_db
def test_an_unknown_page_says_so_in_spanish(client: Client) -> None:
    # given
    _in_spanish(client)

    # when
    response = client.get("/groups/no-such-group/")

    # then
    html = response.content.decode()
    assert response.status_code == 404
    assert "<h1>Página no encontrada</h1>" in html


@pytest.mark.django_db
def test_a_refusal_explains_itself_in_spanish(client: Client) -> None:
    # given: a member of another group asks for this group's member list
    group = make_group(name="Burnage")
    client.force_login(UserFactory())
    _in_spanish(client)

    # when
    response = client.get(reverse("groups:members", args=[group.slug]))

    # then
    html = response.content.decode()
    assert response.status_code == 403
    assert "<h1>No permitido</h1>" in html
    assert "Solo los miembros de este grupo pueden ver quién más forma parte de él." in html


@pytest.mark.django_db
def test_email_sent_to_a_spanish_reader_has_a_spanish_subject(client: Client) -> None:
    # given
    member = UserFactory(email="rosa@example.org")
    _in_spanish(client)

    # when
    client.post(reverse("account_request_login_code"), {"email": member.email})

    # then
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject.startswith("[Ayuda Mutua] ")


# --- The catalogue covers every string ------------------------------------------------------


@dataclass
class CatalogueEntry:
    msgid: str
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)


FIELD_LINE = re.compile(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?)\s+(".*")$')


def read_po(path: Path) -> tuple[dict[str, str], list[CatalogueEntry]]:
    """The header and the live (not obsolete) entries of a .po file."""
    entries: list[CatalogueEntry] = []
    fields: dict[str, str] = {}
    flags: set[str] = set()
    current: str | None = None

    def finish() -> None:
        if "msgid" in fields:
            msgstr = [value for name, value in sorted(fields.items()) if name.startswith("msgstr")]
            entries.append(
                CatalogueEntry(
                    msgid=fields["msgid"],
                    msgctxt=fields.get("msgctxt"),
                    msgid_plural=fields.get("msgid_plural"),
                    msgstr=msgstr,
                    flags=set(flags),
                )
            )
        fields.clear()
        flags.clear()

    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            finish()
            current = None
        elif line.startswith("#,"):
            flags.update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            assert current is not None, line
            fields[current] += ast.literal_eval(line)
        else:
            match = FIELD_LINE.match(line)
            assert match, line
            current = match.group(1)
            fields[current] = ast.literal_eval(match.group(2))
    finish()
    header_entry = entries.pop(0)
    assert header_entry.msgid == ""
    assert "fuzzy" not in header_entry.flags
    header = dict(
        line.split(": ", 1) for line in header_entry.msgstr[0].splitlines() if ": " in line
    )
    return header, entries


GETTEXT_FUNCTIONS = {
    # name: (position of the context, of the message, of its plural)
    "_": (None, 0, None),
    "gettext": (None, 0, None),
    "gettext_lazy": (None, 0, None),
    "gettext_noop": (None, 0, None),
    "ngettext": (None, 0, 1),
    "ngettext_lazy": (None, 0, 1),
    "pgettext": (0, 1, None),
    "pgettext_lazy": (0, 1, None),
    "npgettext": (0, 1, 2),
    "npgettext_lazy": (0, 1, 2),
}


def _messages_in_python(source: str) -> Iterator[tuple[str | None, str]]:
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name not in GETTEXT_FUNCTIONS:
            continue
        context_at, message_at, _plural_at = GETTEXT_FUNCTIONS[name]
        args = node.args
        if len(args) <= message_at:
            continue
        message = args[message_at]
        if not (isinstance(message, ast.Constant) and isinstance(message.value, str)):
            continue
        context = None
        if context_at is not None:
            context_node = args[context_at]
            assert isinstance(context_node, ast.Constant), ast.dump(context_node)
            context = context_node.value
        yield (context, message.value)


STRING = r"""u?(?:'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")"""
TEMPLATE_CALL = re.compile(
    rf"\b(gettext|pgettext|ngettext|npgettext|_)\(\s*((?:{STRING}\s*,?\s*)+)(?:count)?\)"
)


def _messages_in_template(source: str, origin: str) -> Iterator[tuple[str | None, str]]:
    """Django's own template-to-gettext step, then its calls read back."""
    for match in TEMPLATE_CALL.finditer(templatize(source, origin=origin)):
        strings = [ast.literal_eval(s.lstrip("u")) for s in re.findall(STRING, match.group(2))]
        if match.group(1) in {"pgettext", "npgettext"}:
            yield (strings[0], strings[1])
        else:
            yield (None, strings[0])


def source_messages() -> dict[tuple[str | None, str], str]:
    """Every translatable message in the project's code and templates, as makemessages finds
    them; tests are left out, as `makemessages --ignore=tests` leaves them."""
    found: dict[tuple[str | None, str], str] = {}
    for path in sorted(PACKAGE_DIR.rglob("*")):
        relative = path.relative_to(PACKAGE_DIR)
        if "tests" in relative.parts or relative.parts[0] in {"locale", "static"}:
            continue
        if path.suffix == ".py":
            messages = _messages_in_python(path.read_text(encoding="utf-8"))
        elif path.suffix in {".html", ".txt"}:
            messages = _messages_in_template(path.read_text(encoding="utf-8"), str(relative))
        else:
            continue
        for key in messages:
            found.setdefault(key, str(relative))
    return found


def test_the_spanish_catalogue_has_no_untranslated_or_fuzzy_entry() -> None:
    # when
    header, entries = read_po(SPANISH_PO)

    # then
    assert header["Language"] == "es"
    assert len(entries) > 300
    untranslated = [e.msgid for e in entries if not all(e.msgstr)]
    fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]
    assert untranslated == []
    assert fuzzy == []


def test_the_spanish_catalogue_keeps_every_placeholder() -> None:
    # given
    placeholder = re.compile(r"%\(\w+\)[sdf]|\{\w*\}")
    _, entries = read_po(SPANISH_PO)

    # then
    wrong = []
    for entry in entries:
        sources = [entry.msgid] + ([entry.msgid_plural] if entry.msgid_plural else [])
        expected = {tuple(sorted(placeholder.findall(source))) for source in sources}
        for translated in entry.msgstr:
            if tuple(sorted(placeholder.findall(translated))) not in expected:
                wrong.append((entry.msgid, translated))
    assert wrong == []


def test_every_string_in_the_code_is_in_the_spanish_catalogue() -> None:
    """Fails for a new string until `makemessages -l es` is run and the string translated."""
    # given
    _, entries = read_po(SPANISH_PO)
    catalogue = {entry.key for entry in entries}

    # when
    found = source_messages()

    # then
    assert len(found) > 300
    missing = sorted(f"{where}: {key[1]!r}" for key, where in found.items() if key not in catalogue)
    assert missing == []


def test_the_compiled_spanish_catalogue_matches_the_po_file() -> None:
    """Fails when the .po file changed but `compilemessages` was not run again."""
    # given
    _, entries = read_po(SPANISH_PO)
    with SPANISH_MO.open("rb") as mo_file:
        compiled = gettext.GNUTranslations(mo_file)

    # then
    stale = []
    for entry in entries:
        if entry.msgid_plural is None:
            shown = [
                compiled.pgettext(entry.msgctxt, entry.msgid)
                if entry.msgctxt
                else compiled.gettext(entry.msgid)
            ]
            expected = entry.msgstr[:1]
        else:
            shown = [
                compiled.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, n)
                if entry.msgctxt
                else compiled.ngettext(entry.msgid, entry.msgid_plural, n)
                for n in (1, 5)
            ]
            expected = [entry.msgstr[0], entry.msgstr[-1]]
        if shown != expected:
            stale.append(entry.msgid)
    assert stale == []
