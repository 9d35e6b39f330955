"""Accent-, case- and punctuation-insensitive matching of French labels, shared by every search
of the project (fiches, appellations, communes, skills blocks, offers).

SQLite has no `unaccent`, so a search is a regular expression valid for Python's `re` (SQLite's
REGEXP) and PostgreSQL alike, in which each folded letter stands for its accented forms.
"""

import re
import unicodedata

# Both cases spelt out: PostgreSQL's `~*` folds the case of non-ASCII letters only under some
# collations.
_ACCENT_CLASSES = {
    "a": "aàâäAÀÂÄ",
    "c": "cçCÇ",
    "e": "eéèêëEÉÈÊË",
    "i": "iîïIÎÏ",
    "o": "oôöOÔÖ",
    "u": "uùûüUÙÛÜ",
    "y": "yÿYŸ",
}


def fold(text: str) -> str:
    """Lower case without accents, ligatures spelt out, hyphens and apostrophes as spaces:
    « Saint-Omer », « saint omer » and « SAINT OMER » fold alike."""
    text = text.replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae")
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()
    return " ".join(re.sub(r"[-'’]", " ", plain).split())


def accent_insensitive_pattern(query: str) -> str:
    """A regular expression matching `query` whatever its accents, case, hyphens or
    apostrophes: « secretaire » finds « Secrétaire », « saint omer » finds « Saint-Omer »."""
    parts = []
    folded = fold(query)
    position = 0
    while position < len(folded):
        char = folded[position]
        if folded.startswith("oe", position):
            # « oe » was « œ » or « oe »: the label may hold either.
            parts.append("(?:[oO][eEéÉ]|[œŒ])")
            position += 2
            continue
        if char in _ACCENT_CLASSES:
            parts.append(f"[{_ACCENT_CLASSES[char]}]")
        elif char == " ":
            parts.append("[-'’ ]+")
        elif char.isalnum():
            parts.append(char)
        else:
            parts.append(re.escape(char))
        position += 1
    return "".join(parts)


# Addresses from outside (imported files, forms) the site links to: http or https with a host,
# nothing else (« javascript: », « data: », « file: » would run or read in the reader's browser).
WEB_SCHEMES = ("http", "https")
_URL_UNSAFE = re.compile(r"[\x00-\x20\x7f<>\"'`\\]")


def web_url(value: str) -> str:
    """`value` when it is an http(s) address with a host and no space, quote or control
    character; else ""."""
    from urllib.parse import urlsplit

    value = (value or "").strip()
    if not value or _URL_UNSAFE.search(value):
        return ""
    try:
        parts = urlsplit(value)
    except ValueError:
        return ""
    if parts.scheme.lower() not in WEB_SCHEMES or not parts.hostname:
        return ""
    return value
