"""What the registers' officer forms share: a refused write's messages put back on the form."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask_wtf import FlaskForm


def place_errors(form: FlaskForm, fields: Mapping[str, Any], words: Callable[[str], str]) -> list[str]:
    """Add each field's messages, in the reader's words, to the form's field of that name; return the
    messages no field of the form shows (for the summary at the top)."""
    left: list[str] = []
    for name, messages in fields.items():
        texts = [words(m) for m in messages]
        target = form._fields.get(name)
        if target is not None:
            target.errors = list(target.errors or []) + texts
        else:
            left += texts
    return left
