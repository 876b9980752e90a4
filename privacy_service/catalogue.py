"""The words documents, letters and mails print, from Babel catalogues keyed by stable ids.

Pages translate English sentences with Flask-Babel (the `messages` domain). Documents are made outside a
request too (the scheduler's run reports, the letters a job sends), and their texts are many and long, so
they live in a second domain, `documents`, with one catalogue per language
(translations/{nb,en}/LC_MESSAGES/documents.po) and ids that say what a text is for, such as
`record.title` or `rights.reason.every`. Editing the English never loses the bokmål: both are values of the
same id, and tests/test_catalogue.py fails when an id has no text in either language.

An id's last parts may group texts: `notice.rights_text.access` is the `access` entry of the table
`notice.rights_text`, and parts that are numbers make a list (`retention_run.cols.0`, `.1`, ...). The
catalogues are read once per process from their .po files, which keep the order a table is written in.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

DOMAIN = "documents"
LANGUAGES = ("nb", "en")
DIRECTORY = Path(__file__).parent / "translations"


class MissingText(KeyError):
    """A document asked for an id the catalogue does not have in that language."""


def catalogue_path(lang: str) -> Path:
    """Where the documents catalogue of a language is kept."""
    return DIRECTORY / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def texts(lang: str) -> dict[str, str]:
    """Every id of a language's catalogue with its text, in the order the catalogue lists them."""
    with catalogue_path(lang).open("rb") as handle:
        catalog = read_po(handle, locale=lang, domain=DOMAIN)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string}


def _language(lang: str | None) -> str:
    """The language to write in: nb or en, English for anything else (as the documents did before)."""
    return lang if lang in LANGUAGES else "en"


def words(msgid: str, lang: str | None, **params: Any) -> str:
    """One text in the language, with `{name}` placeholders filled from params when any are given."""
    try:
        found = texts(_language(lang))[msgid]
    except KeyError:
        raise MissingText(f"{msgid!r} has no text in {_language(lang)!r}") from None
    return found.format(**params) if params else found


def _nest(flat: Mapping[str, str], prefix: str) -> dict[str, Any]:
    """The ids under `prefix.` as a nested table; a level whose keys are all numbers becomes a list."""
    table: dict[str, Any] = {}
    start = f"{prefix}."
    for msgid, text in flat.items():
        if not msgid.startswith(start):
            continue
        *groups, last = msgid[len(start) :].split(".")
        level = table
        for group in groups:
            level = level.setdefault(group, {})
        level[last] = text
    return _lists(table)


def _lists(table: dict[str, Any]) -> Any:
    inner = {key: _lists(value) if isinstance(value, dict) else value for key, value in table.items()}
    if inner and all(key.isdigit() for key in inner):
        return [inner[key] for key in sorted(inner, key=int)]
    return inner


@cache
def _table(prefix: str, lang: str) -> Any:
    found = _nest(texts(lang), prefix)
    if not found:
        raise MissingText(f"no texts under {prefix!r} in {lang!r}")
    return found


def table(prefix: str, lang: str) -> Any:
    """Every text under `prefix` in the language, as {key: text} (groups nested, numbered groups as lists);
    a copy, so a caller may add to it."""
    return copy.deepcopy(_table(prefix, _language(lang)))


class ByLanguage(Mapping[str, dict[str, Any]]):
    """A table of texts reached by language first: `LABELS["nb"]["title"]`, as the documents read them."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def __getitem__(self, lang: str) -> dict[str, Any]:
        if lang not in LANGUAGES:
            raise KeyError(lang)
        return table(self.prefix, lang)

    def __iter__(self) -> Iterator[str]:
        return iter(LANGUAGES)

    def __len__(self) -> int:
        return len(LANGUAGES)


class ByCode(Mapping[str, dict[str, str]]):
    """Words for codes, reached by code first: `ART9_TEXTS["9(2)(a)"]["nb"]`. The codes are data and keep
    their order here; their words are in the catalogue under `prefix.<code>`."""

    def __init__(self, prefix: str, codes: Sequence[str]) -> None:
        self.prefix = prefix
        self.codes = tuple(codes)

    def __getitem__(self, code: str) -> dict[str, str]:
        if code not in self.codes:
            raise KeyError(code)
        return {lang: words(f"{self.prefix}.{code}", lang) for lang in LANGUAGES}

    def __iter__(self) -> Iterator[str]:
        return iter(self.codes)

    def __len__(self) -> int:
        return len(self.codes)


def both_languages(msgid: str) -> dict[str, str]:
    """One text in both languages, as the {nb, en} mapping records and JSON hold: `COMPLAIN["nb"]`."""
    return {lang: words(msgid, lang) for lang in LANGUAGES}
