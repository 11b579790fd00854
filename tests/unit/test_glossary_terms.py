"""The kk and ru catalogs say each domain term one way (the terminology glossary), and the msgids
with two meanings carry a context so that each meaning gets its own translation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parents[2] / "awards" / "translations"


@pytest.fixture(scope="module")
def catalogs():
    found = {}
    for lang in ("kk", "ru"):
        with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
            found[lang] = read_po(f, locale=lang)
    return found


def pairs(catalog, msgid_pattern: str):
    """(msgid, translation) of every message whose msgid matches, plural forms joined."""
    for m in catalog:
        if not m.id:
            continue
        msgid = " ".join(m.id) if m.pluralizable else m.id
        text = " ".join(m.string) if m.pluralizable else m.string
        if re.search(msgid_pattern, msgid, re.I):
            yield msgid, text


# (language, msgids containing, every translation must contain, and must not contain)
TERMS = [
    ("kk", r"\bdrafts?\b", "қаралам", "жоба"),
    ("ru", r"\bdrafts?\b", "черновик", None),
    ("kk", r"\brubrics?\b", "критерий", "өлшем"),
    ("ru", r"\brubrics?\b", "критери", None),
    ("kk", r"\bcriterion key\b", "критерий", "өлшем"),
    ("kk", r"\bapplicants?\b", "өтінім беруші", "өтініш беруші"),
    ("kk", r"\bcorrection note\b|\bwith a note\b", "ескертпе", "түсін"),
    ("kk", r"\beligible entr", "қатысуға жіберіл", None),
    # Eligible / ineligible: «қатысуға жіберілді / жіберілмеді», the official pairing, never
    # «рұқсат етілді» next to it.
    ("kk", r"\b(in)?eligib", "қатысуға жібер", "рұқсат"),
    # The rest of the glossary. "(?<!%\()" leaves out a placeholder such as %(category)s.
    ("kk", r"(?<!%\()\bcategor", "номинаци", "санат"),
    ("ru", r"(?<!%\()\bcategor", "номинаци", "категори"),
    ("ru", r"(?<!%\()\bapplicants?\b", "заявител", None),
    ("kk", r"(?<!%\()\bnominees?\b", "үміткер", None),
    ("ru", r"(?<!%\()\bnominees?\b", "кандидат", "номинант"),
    ("kk", r"\bscreened\b", "сараптама", "тексер"),
    ("ru", r"\bscreened\b", "экспертиз", "провер"),
    ("kk", r"\bwithdraw from\b|\brecus", "өздігінен бас тарт", "кері қайтар"),
    ("ru", r"\bwithdraw from\b|\brecus", "самоотвод", None),
    ("kk", r"\bcriteri(on|a)\b", "критери", "өлшем"),
    ("kk", r"^(?!.*\bpoints?\b).*\b(scores?|totals?)\b", "", "ұпай"),
    ("ru", r"^(?!.*\bpoints?\b).*\b(scores?|totals?)\b", "", " очк"),
    ("kk", r"(?<!%\()\bjurors?\b", "қазы", None),
    ("kk", r"\bconflicts? of interest\b", "мүдделер қақтығыс", None),
    ("ru", r"\bconflicts? of interest\b", "конфликт", None),
    ("kk", r"\bconsent", "келісім", None),
    ("ru", r"\bconsent", "соглас", None),
    ("kk", r"\bpersonal data\b", "дербес дерек", None),
    ("ru", r"\bpersonal data\b", "персональн", None),
    ("kk", r"(?<!%\()\brounds?\b", "кезең", None),
    ("ru", r"(?<!%\()\brounds?\b", "тур", None),
    ("kk", r"\bresults\b", "нәтиже", None),
    ("ru", r"\bresults\b", "итог", None),
    ("kk", r"\bcitations?\b", "негіздеме", None),
    ("ru", r"\bcitations?\b", "обоснован", None),
    ("kk", r"\bdiplomas?\b|\bcertificates?\b", "диплом", None),
    ("ru", r"\bdiplomas?\b|\bcertificates?\b", "диплом", None),
    ("kk", r"\bpublic vote\b", "халықтық дауыс", None),
    ("ru", r"\bpublic vote\b", "народн", None),
    ("kk", r"(?<!%\()\baward levels?\b", "марапат деңгей", None),
    ("kk", r"\bassign", "тағайында", None),
    ("ru", r"\bassign", "назнач", None),
    ("kk", r"\bdeadline\b", "мерзім", "тапсыру мерзімі"),
    # Withdrawing a nomination (not a juror's withdrawal from an entry, nor withdrawn scores).
    ("kk", r"^(?!.*\bscores\b).*\bwithdr(?!aw from|ew from|awn from)", "кері қайтарып ал", None),
    ("ru", r"\bdeadline\b", "срок", "окончание срока"),
]

# Words the glossary rules out anywhere: "шекара" is a country's border, "эмбарго" and
# "шорт-лист" are not the UI's words, «рақмет» is the dictionary's spelling.
FORBIDDEN = [("kk", "шекара"), ("kk", "эмбарго"), ("kk", "шорт-лист"), ("kk", "рахмет"),
             ("kk", "ең жоғарғы"), ("ru", "эмбарго"), ("ru", "шорт-лист"), ("ru", "номинант")]


@pytest.mark.parametrize(("lang", "msgids", "must", "must_not"), TERMS)
def test_a_glossary_term_reads_the_same_everywhere(catalogs, lang, msgids, must, must_not):
    wrong = [f"{msgid!r} -> {text!r}" for msgid, text in pairs(catalogs[lang], msgids)
             if must not in text.lower() or (must_not and must_not in text.lower())]
    assert not wrong, f"{lang}: expected «{must}» (never «{must_not}»):\n" + "\n".join(wrong)


@pytest.mark.parametrize(("lang", "word"), FORBIDDEN)
def test_a_word_the_glossary_rules_out_is_nowhere(catalogs, lang, word):
    found = [f"{msgid!r} -> {text!r}" for msgid, text in pairs(catalogs[lang], r".")
             if word in text.lower()]
    assert not found, f"{lang}: «{word}» is used:\n" + "\n".join(found)


# msgid, context of one meaning and its expected kk and ru, then the context of the other meaning
# (None: the plain msgid) and its expected kk and ru. `Submit` has no plain msgid any more: the
# nomination's button says pgettext("nomination", ...) and the review's pgettext("review", ...).
SPLIT = [
    ("Submit", "review", ("Жіберу", "Отправить"), "nomination", ("Тапсыру", "Подать")),
    ("Submitted", "nomination", ("Тапсырылды", "Подана"), None, ("Жіберілді", "Отправлена")),
    ("submitted", "nomination", ("тапсырылды", "подана"), None, ("жіберілді", "отправлена")),
    ("Score", "action", ("Бағалау", "Оценить"), None, ("Балл", "Балл")),
    ("Revoke", "token", ("Күшін жою", "Отозвать"), None, ("Күшін жою", "Отменить")),
]


@pytest.mark.parametrize(("msgid", "context", "with_context", "other_context", "other_meaning"),
                         SPLIT)
def test_a_msgid_with_two_meanings_has_one_translation_per_meaning(
        catalogs, msgid, context, with_context, other_context, other_meaning):
    for lang, in_context, without in zip(("kk", "ru"), with_context, other_meaning, strict=True):
        one = catalogs[lang].get(msgid, context=context)
        other = catalogs[lang].get(msgid, context=other_context)
        assert one is not None, f"{lang}: no [{context}] {msgid!r}: is pgettext used in the code?"
        assert other is not None, f"{lang}: no [{other_context}] {msgid!r} in the catalog"
        assert not one.fuzzy and not other.fuzzy, f"{lang}: {msgid!r} is still fuzzy"
        assert (one.string, other.string) == (in_context, without), lang
