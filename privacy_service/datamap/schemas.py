"""marshmallow schemas of the data map: policies/systems.yaml entries and all their validation messages."""

from __future__ import annotations

import re
from typing import Any, NoReturn

from marshmallow import ValidationError, fields, validate, validates_schema
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from privacy_service.errors import N_, ValidationFailed
from privacy_service.kernel import SLUG_RE, StrictSchema, TextOrLocalised

# Table and column names are later quoted into SQL statements: this pattern is a security boundary.
IDENTIFIER_RE = r"^[A-Za-z_][A-Za-z0-9_]{0,62}$"
IDENTITY_KINDS = ("email", "national_id", "phone", "account_id")
# A portal's own user id column: `portal:<the API client's name>`. Only that client's links reach it.
PORTAL_KIND_RE = r"^portal:[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$"
ERASURE_STRATEGIES = ("delete", "mask")

IDENTIFIER = validate.Regexp(
    IDENTIFIER_RE,
    error=N_("Not a valid SQL name: letters, digits and '_', starting with a letter or '_' (63 at most)."),
)
SYSTEM_NAME = validate.Regexp(
    r"^[a-z0-9][a-z0-9-]{0,99}$", error=N_("Use lower-case letters, digits and '-' (at most 100 characters).")
)
ENV_NAME = validate.Regexp(
    r"^[A-Z_][A-Z0-9_]{0,99}$", error=N_("Name an environment variable: upper-case letters, digits and '_'.")
)
CATEGORY_KEY = validate.Regexp(
    r"^[a-z][a-z0-9_]{0,63}$", error=N_("Name a data category key of the activity (lower-case, digits, '_').")
)


def is_identity_kind(kind: str) -> bool:
    """One of the identity kinds a table may hold, or a portal's own user id (`portal:<client>`)."""
    return kind in IDENTITY_KINDS or re.fullmatch(PORTAL_KIND_RE, kind) is not None


def _identity_kind(kind: str) -> None:
    if not is_identity_kind(kind):
        choices = ", ".join((*IDENTITY_KINDS, "portal:<client>"))
        raise ValidationError(f"Unknown identity kind {kind}; choose one of: {choices}.")


def _identifier(**kwargs: Any) -> fields.String:
    return fields.String(validate=IDENTIFIER, **kwargs)


class TableMapSchema(StrictSchema):
    """One table of a data system: its activity, how to find a subject, what it holds, how to erase it."""

    table = _identifier(required=True)
    activity = fields.String(
        required=True,
        validate=validate.Regexp(
            SLUG_RE, error=N_("Name the activity by its slug (lower-case, digits, '-').")
        ),
    )
    key = _identifier(required=True)
    identity = fields.Dict(
        keys=fields.String(validate=_identity_kind),
        values=_identifier(),
        load_default=dict,
    )
    columns = fields.Dict(
        keys=_identifier(),
        values=fields.String(validate=CATEGORY_KEY),
        required=True,
        validate=validate.Length(
            min=1, error=N_("Map at least one column to a data category of the activity.")
        ),
    )
    erasure = fields.String(
        required=True,
        validate=validate.OneOf(
            ERASURE_STRATEGIES, error="Unknown erasure {input}; choose delete (the row) or mask (columns)."
        ),
    )
    mask_columns = fields.List(_identifier(), load_default=list)
    restriction_column = _identifier(load_default=None, allow_none=True)
    anchor_column = _identifier(load_default=None, allow_none=True)

    @validates_schema
    def _check_masking(self, data: dict, **_: Any) -> None:
        masked = data.get("mask_columns") or []
        errors: dict[str, list[str]] = {}
        if data.get("erasure") == "mask" and not masked:
            errors["mask_columns"] = [N_("Erasure by masking needs the columns to blank: list them here.")]
        elif data.get("erasure") == "delete" and masked:
            errors["mask_columns"] = [
                N_("Only used with erasure: mask; leave it empty when rows are deleted.")
            ]
        elif data.get("key") in masked:
            errors["mask_columns"] = [N_("The key column cannot be masked: the row must stay addressable.")]
        elif unmapped := sorted(set(masked) - set(data.get("columns") or {})):
            errors["mask_columns"] = [
                f"Map these to a data category under columns first: {', '.join(unmapped)}."
            ]
        if len(masked) != len(set(masked)):
            errors.setdefault("mask_columns", []).append("Each column may be listed only once.")
        if errors:
            raise ValidationError(errors)


class SystemSchema(StrictSchema):
    """One data system in systems.yaml: where its database is and the tables mapped to activities."""

    name = fields.String(required=True, validate=SYSTEM_NAME)
    description = TextOrLocalised(
        load_default="", max_length=500, metadata={"description": "What the system holds, {nb, en}"}
    )
    url_env = fields.String(load_default=None, allow_none=True, validate=ENV_NAME)
    url = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=500))
    tables = fields.List(
        fields.Nested(TableMapSchema),
        required=True,
        validate=validate.Length(min=1, error=N_("Map at least one table.")),
    )

    @validates_schema
    def _check_system(self, data: dict, **_: Any) -> None:
        errors: dict[str, list[str]] = {}
        if not data.get("url_env") and not data.get("url"):
            errors["url"] = [N_("Give url_env (the variable holding the URL), a default url, or both.")]
        if data.get("url") and (problem := _url_problem(data["url"])):
            errors["url"] = [problem]
        names = [t["table"] for t in data.get("tables") or []]
        if len(names) != len(set(names)):
            errors["tables"] = [N_("Each table may be mapped only once per system.")]
        if errors:
            raise ValidationError(errors)


def _url_problem(url: str) -> str | None:
    try:
        parsed = make_url(url.replace("{instance}", "instance"))
    except ArgumentError:
        return "Not a database URL such as postgresql+psycopg://host/db or sqlite:///{instance}/demo/x.db."
    if parsed.password:
        return "Never put a password in the file: set it in the variable named by url_env."
    return None


class SystemsFileSchema(StrictSchema):
    """policies/systems.yaml."""

    systems = fields.List(fields.Raw(), required=True)  # validated one by one, so errors name the system


system_schema = SystemSchema()
systems_file_schema = SystemsFileSchema()


def _flatten(messages: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(messages, dict):
        return [p for k, v in messages.items() for p in _flatten(v, f"{prefix}.{k}" if prefix else str(k))]
    if isinstance(messages, list):
        return [p for m in messages for p in _flatten(m, prefix)]
    return [(prefix or "_schema", str(messages))]


def _raise(problems: list[tuple[str, str]]) -> NoReturn:
    where, message = problems[0]
    text = f"{where}: {message}" + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
    raise ValidationFailed(text, fields={w: [m] for w, m in problems})


def _validate(item: Any, index: int) -> dict[str, Any]:
    name = item.get("name") if isinstance(item, dict) else None
    where = f"system '{name}'" if name else f"system #{index + 1}"
    if not isinstance(item, dict):
        _raise([(where, "expected a mapping of name, url_env, url and tables.")])
    try:
        return system_schema.load(item)
    except ValidationError as err:
        _raise([(_where(where, item, f), m) for f, m in _flatten(err.messages)])


def _where(system: str, item: dict[str, Any], path: str) -> str:
    # Name the table an error is in, not its position: "tables.1.erasure" -> "table 'x', field 'erasure'".
    match = re.fullmatch(r"tables\.(\d+)\.(.+)", path)
    tables = item.get("tables") if isinstance(item.get("tables"), list) else []
    if match and int(match[1]) < len(tables) and isinstance(tables[int(match[1])], dict):
        name = tables[int(match[1])].get("table", f"#{int(match[1]) + 1}")
        return f"{system}, table '{name}', field '{match[2]}'"
    return f"{system}, field '{path}'"


def _registry_problems(record: dict[str, Any], activities: dict[str, set[str]]) -> list[tuple[str, str]]:
    problems = []
    for table in record["tables"]:
        where = f"system '{record['name']}', table '{table['table']}'"
        declared = activities.get(table["activity"])
        if declared is None:
            problems.append(
                (f"{where}, field 'activity'", f"Unknown activity '{table['activity']}'; declare it first.")
            )
            continue
        for column, category in table["columns"].items():
            if category not in declared:
                problems.append(
                    (
                        f"{where}, field 'columns.{column}'",
                        f"Activity '{table['activity']}' declares no data category '{category}' "
                        f"(it declares: {', '.join(sorted(declared)) or 'none'}).",
                    )
                )
    return problems


def validate_systems(items: list[Any], *, activities: dict[str, set[str]]) -> list[dict[str, Any]]:
    """Validate systems.yaml entries against the schema and the registry, naming every problem."""
    records = [_validate(item, i) for i, item in enumerate(items)]
    problems = [p for r in records for p in _registry_problems(r, activities)]
    seen: set[str] = set()
    for record in records:
        if record["name"] in seen:
            problems.append((f"system '{record['name']}', field 'name'", "Defined more than once."))
        seen.add(record["name"])
    if problems:
        _raise(problems)
    return records
