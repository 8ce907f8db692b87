"""Which languages a member reads, from the free text of their profile ("ko,en", "한국어, English",
"English, 한국어 조금", "Tiếng Việt"), and whether two members share one.

Members write their languages as they like, so a stated language is recognised by its code
("ko", "en-US", "zh_Hans") or by its name in English, in Korean or in itself, as Babel spells
them, plus a few everyday Korean names ("한국말", "한글"). Words it does not know ("조금",
"a little", "fluent") are left out. A member who states nothing reads the language they chose
for the app, else the bank's own language: in a Korean time bank a blank profile is far more
often a Korean speaker who skipped the field than someone who reads no Korean.
"""
from __future__ import annotations

import functools
import re
import unicodedata

from babel import Locale

# Read by a member who states no language and chose none for the app, where the app's
# DEFAULT_LOCALE is not at hand (outside an application context).
BANK_LANGUAGE = "ko"
# Names are recognised as English and Korean spell them (Babel's lists), and the languages
# most spoken among members also by their own name (written here: loading each language's
# Babel data would take seconds). Any language is recognised by its code.
NAMED_IN = ("en", "ko")
OWN_NAMES = {"中文": "zh", "普通话": "zh", "汉语": "zh", "日本語": "ja", "tiếng việt": "vi", "ไทย": "th",
             "filipino": "fil", "русский": "ru", "o‘zbek": "uz", "oʻzbekcha": "uz", "монгол": "mn",
             "bahasa indonesia": "id", "नेपाली": "ne", "ខ្មែរ": "km", "español": "es", "français": "fr",
             "deutsch": "de", "বাংলা": "bn", "اردو": "ur", "қазақ тілі": "kk"}
# Everyday names Babel does not give.
ALIASES = {"한국말": "ko", "한글": "ko", "조선말": "ko", "영문": "en", "중국말": "zh", "일본말": "ja",
           "hangul": "ko", "hangeul": "ko", "mandarin": "zh", "cantonese": "zh", "tagalog": "fil"}
_SEPARATORS = re.compile(r"[,;/|+&·、，()\[\]\n]+|\s+(?:and|or|und|et|및|그리고)\s+")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


@functools.lru_cache(maxsize=4096)
@functools.lru_cache(maxsize=4096)  # asked for every candidate of every ranking; few distinct answers
def languages_read(stated: str | None, locale: str | None, default: str) -> frozenset[str]:
    """The base language codes a member reads: those stated plus the app language they chose;
    if neither says anything, the bank's `default` language."""
    found = set(parse(stated or ""))
    if locale:
        found.add(_base(locale))
    return frozenset(found or {_base(default)})


def shares_language(a: frozenset[str], b: frozenset[str]) -> bool:
    return not a.isdisjoint(b)


@functools.lru_cache(maxsize=4096)
def parse(stated: str) -> frozenset[str]:
    """The language codes named in a profile's free text; unknown words are ignored."""
    names = _names()
    found = set()
    for piece in _SEPARATORS.split(_fold(stated)):
        piece = piece.strip()
        if not piece:
            continue
        whole = names.get(piece) or _code(piece)  # "tiếng việt", "ko", "en-us"
        if whole:
            found.add(whole)
            continue
        # Else its words ("한국어 조금", "fluent japanese"); a bare code only on its own, as
        # short words ("my", "it", "no") are also codes.
        found.update(names[word] for word in _WORD.findall(piece) if word in names)
    return frozenset(found)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def _base(code: str) -> str:
    return re.split(r"[-_]", code.strip())[0].lower()


def _code(piece: str) -> str | None:
    """A language code such as "ko", "en-US" or "zh_Hans" whose language Babel knows."""
    if not re.fullmatch(r"[a-z]{2,3}(?:[-_][a-z0-9]{2,8})*", piece):
        return None
    code = _base(piece)
    return code if code in _codes() else None


@functools.cache
def _codes() -> frozenset[str]:
    return frozenset(_base(code) for code in Locale.parse("en").languages)


@functools.cache
def _names() -> dict[str, str]:
    """Every recognised name (folded) → its base code."""
    names: dict[str, str] = {}
    for locale_code in NAMED_IN:
        for code, name in Locale.parse(locale_code).languages.items():
            names.setdefault(_fold(name), _base(code))
    names.update(OWN_NAMES)
    names.update(ALIASES)
    return names
