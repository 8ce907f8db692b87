"""The Korean and English catalogues are complete, compiled, and used by the pages."""
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "carebank" / "translations"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None,
            "pgettext": ((1, "c"), 2)}
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
LANGUAGES = ["ko", "en"]


def source_messages() -> set:
    with open(ROOT / "babel.cfg") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = extract_from_dir(str(ROOT), method_map, options_map, keywords=KEYWORDS)
    return {(message, context) for _file, _line, message, _comments, context in found}


def catalogue(lang: str):
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po, locale=lang)


def msgid_key(message):
    return message if isinstance(message, str) else message[0]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_source_string_has_a_translation(lang):
    translated = catalogue(lang)
    missing = []
    for message, context in source_messages():
        entry = translated.get(msgid_key(message), context=context)
        strings = entry.string if entry is not None else None
        strings = strings if isinstance(strings, tuple) else (strings,)
        if entry is None or entry.fuzzy or not all(strings):
            missing.append(msgid_key(message))
    assert not missing, f"{len(missing)} untranslated in {lang}: {sorted(missing)[:20]}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_translations_keep_their_placeholders(lang):
    for entry in catalogue(lang):
        if not entry.id or not entry.string:
            continue
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1])) | set(PLACEHOLDER.findall(ids[0]))
        for text in strings:
            assert set(PLACEHOLDER.findall(text)) <= wanted, f"{lang}: {entry.id!r} → {text!r}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_compiled_catalogue_matches_the_po_file(lang):
    """The .mo the app loads was compiled from the current .po (run `pybabel compile`)."""
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.mo", "rb") as mo:
        compiled = {_hashable(m.id): _hashable(m.string) for m in read_mo(mo) if m.id}
    expected = {_hashable(m.id): _hashable(m.string)
                for m in catalogue(lang) if m.id and m.string and not m.fuzzy}
    assert compiled == expected


def _hashable(value):
    # Plural entries come back as lists from a .mo and tuples from a .po.
    return tuple(value) if isinstance(value, (list, tuple)) else value


def test_korean_pages_use_the_korean_catalogue(client):
    page = client.get("/", headers={"Accept-Language": "ko"}).get_data(as_text=True)
    assert '<html lang="ko">' in page
    assert "Sign up" not in page and "Log in" not in page
    assert catalogue("ko").get("Sign up").string in page


def test_dates_read_naturally_in_each_language(app):
    from datetime import UTC, datetime

    from flask_babel import force_locale

    from carebank.web import format_when

    moment = datetime(2026, 11, 23, 1, 5, tzinfo=UTC)  # 10:05 in Seoul
    with app.test_request_context():
        with force_locale("ko"):
            assert format_when(moment) == "2026. 11. 23. 오전 10:05"
        with force_locale("en"):
            assert format_when(moment) == "Nov 23, 2026 10:05\u202fAM"  # CLDR: narrow no-break space
