"""The kk/ru/en catalogs cover every message in the code and templates, and they work.

Messages are extracted afresh from the sources (as `make translations` does, with the keywords
from the Makefile), so a string added without a translation fails here, not in front of a
Kazakh- or Russian-speaking user. The .mo files are build products (git-ignored), so the loading
test compiles the .po catalogs into a temporary directory instead of trusting whatever .mo
happens to be lying in the tree."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po
from flask_babel import force_locale, gettext, ngettext

from awards import create_app

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "awards" / "translations"
LANGUAGES = ("kk", "ru", "en")

# %(name)s / %(n)d style, and str.format style {name}, as used in msgids.
PLACEHOLDER = re.compile(
    r"%\([A-Za-z_][A-Za-z0-9_]*\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrs]|\{[A-Za-z_][A-Za-z0-9_]*\}"
)


def makefile_keywords() -> list[str]:
    """The extra -k options of `make translations`, so the test extracts exactly the same."""
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    match = re.search(r"^BABEL_KEYWORDS\s*:?=\s*(.*)$", text, re.M)
    assert match, "BABEL_KEYWORDS not found in the Makefile"
    return shlex.split(match.group(1))


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A fresh messages.pot extracted from awards/**.py and templates/**.{html,txt}."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    CommandLineInterface().run([
        "pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), *makefile_keywords(),
        "--project=awards", "-o", str(pot), str(ROOT),
    ])
    with pot.open("rb") as f:
        catalog = read_po(f)
    assert len(catalog) > 100, "extraction found almost nothing: is babel.cfg still right?"
    return catalog


def load(lang: str):
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=lang)


@pytest.fixture(scope="module")
def catalogs():
    return {lang: load(lang) for lang in LANGUAGES}


def forms(message) -> list[str]:
    return list(message.string) if message.pluralizable else [message.string]


def label(message) -> str:
    msgid = message.id[0] if message.pluralizable else message.id
    return f"[{message.context}] {msgid!r}" if message.context else repr(msgid)


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalog_translates_every_extracted_message(template, catalogs, lang):
    catalog = catalogs[lang]
    missing = []
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id, context=message.context)
        if found is None or found.fuzzy or not all(s.strip() for s in forms(found)):
            missing.append(label(message))
    assert not missing, (
        f"{len(missing)} message(s) without a {lang} translation "
        f"(run `make translations`, then translate):\n" + "\n".join(missing)
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_translations_keep_the_placeholders_of_the_msgid(template, catalogs, lang):
    catalog = catalogs[lang]
    wrong = []
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id, context=message.context)
        if found is None:
            continue  # reported by the completeness test
        if found.pluralizable:
            expected = placeholders(found.id[0]) | placeholders(found.id[1])
        else:
            expected = placeholders(found.id)
        for text in forms(found):
            if text and placeholders(text) != expected:
                wrong.append(f"{label(message)} -> {text!r}")
    assert not wrong, f"{lang} translations whose placeholders differ:\n" + "\n".join(wrong)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalog_passes_babel_checks_and_has_babels_plural_rule(catalogs, lang):
    catalog = catalogs[lang]
    rule = get_plural(lang)  # what `pybabel init` writes: ru 3 forms, kk and en 2
    assert (catalog.num_plurals, catalog.plural_expr) == (rule.num_plurals, rule.plural_expr)
    problems = [f"{label(m)}: {'; '.join(map(str, errors))}" for m, errors in catalog.check()]
    assert not problems, f"{lang} catalog errors:\n" + "\n".join(problems)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory, catalogs):
    """The current .po catalogs compiled to .mo in a temporary translations directory."""
    root = tmp_path_factory.mktemp("translations")
    for lang, catalog in catalogs.items():
        target = root / lang / "LC_MESSAGES"
        target.mkdir(parents=True)
        with (target / "messages.mo").open("wb") as f:
            write_mo(f, catalog)
    return root


@pytest.fixture
def i18n_app(app_config, compiled):
    app = create_app({**app_config, "BABEL_TRANSLATION_DIRECTORIES": str(compiled)})
    yield app
    app.extensions["awards_db"]["engine"].dispose()


def test_compiled_catalogs_translate_at_runtime(i18n_app, catalogs):
    kk_login = catalogs["kk"].get("Log in").string
    ru_login = catalogs["ru"].get("Log in").string
    assert kk_login and kk_login != "Log in"
    with i18n_app.test_request_context("/"):
        with force_locale("kk"):
            assert gettext("Log in") == kk_login
        with force_locale("ru"):
            assert gettext("Log in") == ru_login
            # Russian has three plural forms: 1 день, 3 дня, 5 дней.
            forms_ru = catalogs["ru"].get(("%(num)d day", "%(num)d days")).string
            assert [ngettext("%(num)d day", "%(num)d days", n) for n in (1, 3, 5)] == [
                forms_ru[0] % {"num": 1}, forms_ru[1] % {"num": 3}, forms_ru[2] % {"num": 5}]
        with force_locale("en"):
            assert gettext("Log in") == "Log in"
