"""The erasure ledger: which subjects were erased, as keyed hashes only, so erasures survive a restore.

A database restored from a backup taken before an erasure brings the erased rows back. Every approved erasure
appends one line to `instance/ledger/erasures.jsonl` (fsynced; keep the folder out of the database backups
or copy it aside): the reference, when, the activities, and HMAC-SHA256 hashes of the subject's identities
under a key derived from PRIVACY_SECRET_KEY. Nobody can read a subject out of it, but
`privacy-service dsar replay-erasures` can stream the data systems' identity columns, hash each value the
same way, and erase the matching rows again, except those under an active hold.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import object_session
from sqlmodel import Session

from privacy_service.datamap.actions import erase_keys, scan_identities
from privacy_service.datamap.service import mapped_tables
from privacy_service.dsar import lifecycle
from privacy_service.dsar.models import DsarRequest
from privacy_service.retention.service import held_keys

KINDS = ("email", "national_id")


def ledger_path(instance_path: Path) -> Path:
    return Path(instance_path) / "ledger" / "erasures.jsonl"


def _key(secret_key: str) -> bytes:
    return hmac.new(secret_key.encode(), b"privacy-service erasure ledger v1", hashlib.sha256).digest()


def normalise(kind: str, value: str) -> str:
    value = value.strip()
    if kind.startswith("portal:"):  # a portal's own user id, as its column holds it
        return value
    return value.lower() if kind == "email" else "".join(c for c in value if c.isdigit())


def identity_hash(secret_key: str, kind: str, value: str) -> str:
    """The keyed hash the ledger stores for one identity (e-mail lower-cased, identity number digits)."""
    message = f"{kind}:{normalise(kind, value)}".encode()
    return hmac.new(_key(secret_key), message, hashlib.sha256).hexdigest()


def record_erasure(
    req: DsarRequest, *, activities: list[str], secret_key: str, instance_path: Path, at: datetime
) -> dict[str, Any]:
    """Append the erasure to the ledger file (flushed to disk before the approval commits): the hashes of
    the identifiers the erasure searched, the request's proved ones and the person's verified links (read in
    the request's own session, before her links are forgotten)."""
    session = object_session(req)
    identities = (
        lifecycle.person_identity(session, req, secret=secret_key)  # type: ignore[arg-type]
        if session is not None
        else {k: [v] for k, v in lifecycle.identity_of(req).items()}
    )
    hashes = {identity_hash(secret_key, k, v) for k, values in identities.items() for v in values if v}
    entry = {
        "reference": req.reference,
        "at": at.isoformat(),
        "activities": sorted(activities),
        "hashes": sorted(hashes),
    }
    path = ledger_path(instance_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, sort_keys=True) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return entry


def read_ledger(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@dataclass
class Replay:
    """What a replay found and did, per table."""

    entries: int = 0
    tables: list[dict[str, Any]] = field(default_factory=list)

    @property
    def erased(self) -> int:
        return sum(t["erased"] for t in self.tables)


def replay(
    session: Session,
    *,
    secret_key: str,
    instance_path: Path,
    ledger: Path | None = None,
    dry_run: bool = False,
) -> Replay:
    """Erase again every row whose identity hashes into the ledger, within the entry's activities, except held
    rows; return the counts (a dry run only counts)."""
    entries = read_ledger(ledger or ledger_path(instance_path))
    activities_of: dict[str, set[str]] = {}
    for entry in entries:
        for digest in entry["hashes"]:
            activities_of.setdefault(digest, set()).update(entry["activities"])
    result = Replay(entries=len(entries))
    if not activities_of:
        return result

    def match(kind: str, value: str) -> bool:
        return identity_hash(secret_key, kind, value) in activities_of

    portals = sorted({k for __, t in mapped_tables(session) for k in t.identity if k.startswith("portal:")})
    for system, table, found in scan_identities(
        session, instance_path=instance_path, kinds=(*KINDS, *portals), match=match
    ):
        in_scope = [
            (key, identity)
            for key, identity in found
            if any(
                table.activity_slug in activities_of.get(identity_hash(secret_key, k, v), ())
                for k, v in identity.items()
            )
        ]
        if not in_scope:
            continue
        held = held_keys(
            session, system=system.name, table=table.table_name, activity=table.activity_slug, rows=in_scope
        )
        todo = [key for key, __ in in_scope if key not in held]
        erased = (
            0
            if dry_run or not todo
            else erase_keys(session, instance_path=instance_path, system=system, table=table, keys=todo)
        )
        result.tables.append({"table": f"{system.name}.{table.table_name}", "found": len(in_scope),
                              "held": len(held), "erased": erased if not dry_run else len(todo)})  # fmt: skip
    return result
