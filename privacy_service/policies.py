"""Load policies/ (configuration as code) into the registry and the data map, all or nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from marshmallow import Schema, ValidationError
from sqlmodel import Session

from privacy_service.audit import Actor
from privacy_service.consent import service as consent_service
from privacy_service.consent.schemas import notice_in_schema, notices_file_schema
from privacy_service.datamap import service as datamap_service
from privacy_service.datamap.schemas import systems_file_schema
from privacy_service.errors import Conflict, ValidationFailed
from privacy_service.registers import service as registers_service
from privacy_service.registers.processing_schemas import (
    policy_processor_record_schema,
    processor_records_file_schema,
)
from privacy_service.retention import service as retention_service
from privacy_service.retention.rules import anonymise_problems, table_problems
from privacy_service.retention.schemas import holds_file_schema, policy_hold_schema
from privacy_service.ropa import service as ropa_service
from privacy_service.ropa.records import RetentionRule
from privacy_service.ropa.schemas import (
    activities_file_schema,
    activity_schema,
    organisation_schema,
    organisations_file_schema,
)


class PolicyError(ValidationFailed):
    """A policy file is wrong; the message names the file, the item and the field."""

    code = "policy_error"


@dataclass
class LoadReport:
    """What a load changed, per kind of record."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    # activities that existed and whose live retention rules the load changed (in force at once: an operator's
    # action); `init` prints a dry run of them
    rule_changes: list[str] = field(default_factory=list)

    def add(self, kind: str, outcome: str) -> None:
        bucket = self.counts.setdefault(kind, {"created": 0, "updated": 0, "unchanged": 0})
        if outcome not in bucket:
            bucket[outcome] = 0
        bucket[outcome] = bucket.get(outcome, 0) + 1

    @property
    def changed(self) -> int:
        return sum(c["created"] + c["updated"] + c.get("released", 0) for c in self.counts.values())


def _flatten(messages: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(messages, dict):
        out = []
        for key, value in messages.items():
            out += _flatten(value, f"{prefix}.{key}" if prefix else str(key))
        return out
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [(prefix or "_schema", m) for m in messages]
    if isinstance(messages, list):
        return [pair for m in messages for pair in _flatten(m, prefix)]
    return [(prefix or "_schema", str(messages))]


def _fail(path: Path, where: str, err: ValidationError | dict) -> PolicyError:
    messages = err.messages if isinstance(err, ValidationError) else err
    pairs = _flatten(messages)
    first_field, first_msg = pairs[0]
    text = f"{path}: {where}field '{first_field}': {first_msg}"
    if len(pairs) > 1:
        text += f" (and {len(pairs) - 1} more)"
    return PolicyError(text, fields={f"{path.name}:{where}{f}": [m] for f, m in pairs})


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise PolicyError(f"{path}:{where} is not valid YAML: {getattr(exc, 'problem', exc)}") from exc


def _load(schema: Schema, data: Any, path: Path, where: str = "") -> dict[str, Any]:
    if not isinstance(data, dict):
        raise PolicyError(f"{path}: {where}expected a mapping, found {type(data).__name__}.")
    try:
        return schema.load(data)
    except ValidationError as err:
        raise _fail(path, where, err) from err


def read_policies(root: Path) -> dict[str, Any]:
    """Read and validate every policy file; raise PolicyError naming the file, item and field."""
    if not root.is_dir():
        raise PolicyError(f"{root}: the policies folder does not exist.")
    org_path = root / "organisations.yaml"
    organisations = [
        _load(
            organisation_schema, item, org_path, f"organisation {i + 1} ({(item or {}).get('slug', '?')}): "
        )
        for i, item in enumerate(
            _load(organisations_file_schema, _read_yaml(org_path), org_path)["organisations"]
        )
    ]
    notices: dict[str, dict] = {}
    activities: list[dict[str, Any]] = []
    seen: dict[str, Path] = {}
    for path in sorted((root / "activities").glob("*.yaml")):
        doc = _load(activities_file_schema, _read_yaml(path), path)
        notices[doc["service"]] = doc["notice"]
        for i, item in enumerate(doc["activities"]):
            slug = item.get("slug", f"#{i + 1}") if isinstance(item, dict) else f"#{i + 1}"
            where = f"activity '{slug}': "
            item = {**item, "service": doc["service"]} if isinstance(item, dict) else item
            record = _load(activity_schema, item, path, where)
            if record["slug"] in seen:
                raise PolicyError(f"{path}: {where}field 'slug': already defined in {seen[record['slug']]}.")
            seen[record["slug"]] = path
            activities.append(record)
    systems_path = root / "systems.yaml"
    systems = []
    if systems_path.exists():
        raw = _load(systems_file_schema, _read_yaml(systems_path), systems_path)
        systems = raw["systems"]
    consent_path = root / "consent-notices.yaml"
    consent_notices = []
    if consent_path.exists():
        raw = _load(notices_file_schema, _read_yaml(consent_path), consent_path)
        for i, item in enumerate(raw["notices"]):
            label = (item or {}).get("purpose", "?") if isinstance(item, dict) else "?"
            consent_notices.append(_load(notice_in_schema, item, consent_path, f"notice {i + 1} ({label}): "))
    holds_path = root / "holds.yaml"
    holds = []
    if holds_path.exists():
        raw = _load(holds_file_schema, _read_yaml(holds_path), holds_path)
        for i, item in enumerate(raw["holds"]):
            label = (item or {}).get("key", "?") if isinstance(item, dict) else "?"
            holds.append(_load(policy_hold_schema, item, holds_path, f"hold {i + 1} ({label}): "))
    _check_rules(activities, systems, seen)
    _check_also_listed(notices, activities, root)
    return {
        "processor_records": _read_processor_records(root / "processor-records.yaml"),
        "holds": holds,
        "activity_files": {slug: str(path) for slug, path in seen.items()},
        "organisations": organisations,
        "notices": notices,
        "activities": activities,
        "systems": systems,
        "consent_notices": consent_notices,
    }


_PROCESSOR_WORDS = ("databehandler", "data processor", "data processing agreement")


def processor_gap_texts(activities: list[dict[str, Any]]) -> list[str]:
    """Lines for `policies check`: activities whose recipients or security measures name a data processor or
    its agreement in words while the Art. 28 list (`processors`) is empty: the record would leave it out of
    the processors and their agreements (Art. 28(3), 30(1)(d))."""
    lines = []
    for record in activities:
        if record.get("status", "active") == "retired" or record.get("processors"):
            continue
        if "processors" in (record.get("not_stated") or []):  # the record already says they are unknown
            continue
        named = [
            text
            for item in [*(record.get("recipients") or []), *(record.get("security_measures") or [])]
            for text in (item.get("nb") or "", item.get("en") or "")
            if any(word in text.lower() for word in _PROCESSOR_WORDS)
        ]
        if named:
            lines.append(
                f"Processor not in the Art. 28 list: {record['slug']} names a data processor ({named[-1]!r}) "
                "but records no processor with its agreement."
            )
    return lines


_RECEIPT_CONTACTS = ("address", "email", "phone")


def receipt_contact_gap_texts(
    organisations: list[dict[str, Any]], activities: list[dict[str, Any]]
) -> list[str]:
    """Lines for `policies check`: controllers of an active consent-based activity without the address,
    e-mail or phone a Kantara consent receipt gives for every controller (issue 20); the receipt says "not
    stated"."""
    by_slug = {o["slug"]: o for o in organisations}
    lines = []
    for record in activities:
        if record.get("status", "active") != "active" or not record.get("consent_purpose"):
            continue
        for slug in [record["controller"], *(record.get("joint_controllers") or [])]:
            missing = [f for f in _RECEIPT_CONTACTS if not (by_slug.get(slug) or {}).get(f)]
            if missing:
                lines.append(
                    f"Consent receipts of {record['slug']} name controller {slug} without its "
                    f"{', '.join(missing)} (a Kantara CR v1.1 receipt gives each controller's address, "
                    "e-mail and phone)."
                )
    return lines


def _check_also_listed(notices: dict[str, dict], activities: list[dict[str, Any]], root: Path) -> None:
    """A notice may describe another service's activity (one record, two notices), never a missing one."""
    services = {a["slug"]: a["service"] for a in activities}
    for service, notice in notices.items():
        for slug in notice.get("also_lists") or []:
            if slug not in services:
                raise PolicyError(
                    f"{root}: notice '{service}': field 'also_lists': unknown activity {slug!r}."
                )
            if services[slug] == service:
                raise PolicyError(
                    f"{root}: notice '{service}': field 'also_lists': {slug!r} is already this service's own."
                )


def _read_processor_records(path: Path) -> list[dict[str, Any]]:
    """The records of processing we carry out as a processor (Art. 30(2)), if the file is there."""
    if not path.exists():
        return []
    raw = _load(processor_records_file_schema, _read_yaml(path), path)
    items = raw["processor_records"]
    keys = [(item or {}).get("key", "?") if isinstance(item, dict) else "?" for item in items]
    return [
        _load(policy_processor_record_schema, item, path, f"record {i + 1} ({keys[i]}): ")
        for i, item in enumerate(items)
    ]


def _check_rules(
    activities: list[dict[str, Any]], systems: list[dict[str, Any]], files: dict[str, Path]
) -> None:
    """Refuse rules that keep what could single a person out, or that cannot be one decision per table."""
    tables = {(s["name"], t["table"]): t for s in systems for t in s["tables"]}
    rules = [
        (a["slug"], i, RetentionRule.of(raw))
        for a in activities
        for i, raw in enumerate((a.get("retention") or {}).get("rules") or [])
    ]
    problems = table_problems(rules)
    for slug, i, rule in rules:
        table = tables.get((rule.system, rule.table))
        if rule.action == "anonymise" and table is not None:
            found = anonymise_problems(
                rule,
                key=table["key"],
                mapped=set(table["columns"]),
                identity=frozenset(table["identity"].values()),
            )
            problems += [(slug, i, p) for p in found]
    if problems:
        slug, i, message = problems[0]
        raise PolicyError(
            f"{files[slug]}: activity '{slug}': retention rule {i + 1}: {message}",
            fields={f"{s}.retention.rules.{n}": [m] for s, n, m in problems},
        )


def _live_rules(session: Session, slug: str) -> list[dict[str, Any]] | None:
    """The rules in force for an activity before the load; None when it does not exist yet."""
    try:
        return ropa_service.live_rules(ropa_service.activity_view(session, slug=slug).record)
    except ropa_service.ActivityNotFound:
        return None


def load_policies(session: Session, *, root: Path, instance_path: Path, actor: Actor) -> LoadReport:
    """Validate policies/ and write it into the registry and the data map in the caller's transaction."""
    docs = read_policies(root)
    report = LoadReport()
    for org in docs["organisations"]:
        report.add("organisations", ropa_service.upsert_organisation(session, data=org, actor=actor))
    for service, notice in docs["notices"].items():
        report.add("notices", ropa_service.upsert_notice(session, service=service, data=notice, actor=actor))
    for record in docs["activities"]:
        try:
            before = _live_rules(session, record["slug"])
            report.add("activities", ropa_service.apply_activity(session, data=record, actor=actor))
            if before is not None and ropa_service.rules_differ(before, ropa_service.live_rules(record)):
                report.rule_changes.append(record["slug"])
        except ValidationFailed as exc:
            raise PolicyError(
                f"{root}: activity '{record['slug']}': {exc.message} {exc.fields}", fields=exc.fields
            ) from exc
    for record in docs["processor_records"]:
        try:
            outcome = registers_service.apply_processor_record(session, data=record, actor=actor)
        except ValidationFailed as exc:
            raise PolicyError(
                f"{root / 'processor-records.yaml'}: record '{record['key']}': {exc.message} {exc.fields}",
                fields=exc.fields,
            ) from exc
        report.add("processor records", outcome)
    for notice in docs["consent_notices"]:
        try:
            __, outcome = consent_service.publish_notice(session, actor=actor, **notice)
        except (ValidationFailed, Conflict) as exc:
            raise PolicyError(
                f"{root / 'consent-notices.yaml'}: notice '{notice['purpose']}' "
                f"version '{notice['version']}': {exc.message} {exc.fields}",
                fields=exc.fields,
            ) from exc
        report.add("consent notices", outcome)
    if docs["systems"]:
        # the data categories of the activities policies/ defines, as the registry now holds them
        loaded = ropa_service.activities_for(session, slugs=docs["activity_files"])
        categories = {a.slug: set(a.data_categories) for a in loaded}
        try:
            counts = datamap_service.load_systems(
                session,
                systems=docs["systems"],
                activities=categories,
                instance_path=instance_path,
                actor=actor,
            )
        except ValidationFailed as exc:
            raise PolicyError(f"{root / 'systems.yaml'}: {exc.message}", fields=exc.fields) from exc
        for outcome, n in counts.items():
            for _ in range(n):
                report.add("systems", outcome)
    problems = retention_service.rule_problems(session)
    if problems:
        slug, messages = next(iter(problems.items()))
        where = docs["activity_files"].get(slug, str(root / "activities"))
        raise PolicyError(
            f"{where}: activity '{slug}': {messages[0]}",
            fields={f"{s}.retention.rules": m for s, m in problems.items()},
        )
    try:
        counts = retention_service.apply_policy_holds(session, holds=docs["holds"], actor=actor)
    except ValidationFailed as exc:
        raise PolicyError(f"{root / 'holds.yaml'}: {exc.message} {exc.fields}", fields=exc.fields) from exc
    for outcome, n in counts.items():
        for _ in range(n):
            report.add("holds", outcome)
    return report
