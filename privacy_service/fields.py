"""Marshmallow fields the JSON bodies share."""

from __future__ import annotations

from typing import Any

from marshmallow import fields


class JsonBoolean(fields.Boolean):
    """A JSON boolean: true or false only.

    marshmallow's Boolean also takes 0, 1, "yes" and "on" (and `0 in {False}` holds in Python), which a JSON
    body never means. Query strings keep the lenient field.
    """

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if value is True or value is False:
            return value
        raise self.make_error("invalid", input=value)
