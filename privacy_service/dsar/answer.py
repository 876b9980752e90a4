"""The answer to a request: what it found and did, collected once at completion, as a PDF letter and a ZIP.

For access and portability the answer carries the subject's rows per activity and table (JSON and CSV, with
a manifest describing every file); access adds what Art. 15(1) lists from the registry, the subject's consents
with their history, and their earlier requests. The documents are stored with the request (so every instance
serves the same answer, and later changes to the data do not alter what was sent); the data export is removed
after ANSWER_DAYS by the scheduler, the letter stays with the request as a case document.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlmodel import Session

from privacy_service.consent import service as consent
from privacy_service.datamap import service as datamap
from privacy_service.dsar import lifecycle
from privacy_service.dsar.decisions import GROUNDS
from privacy_service.dsar.models import DsarDocument, DsarOutcome, DsarRequest, DsarWithholding
from privacy_service.dsar.snapshot import Snapshot, snapshot_of
from privacy_service.kernel import neutralise, utcnow

ANSWER_DAYS = 30  # the subject can download the answer for this long after completion
DATA_RIGHTS = ("access", "portability")


@dataclass
class Withheld:
    """What one withholding kept out of the answer: where, which data categories, how many records (a count,
    never the values), the ground and the reasons."""

    id: int
    activity: str
    system: str
    table: str
    kind: str  # table | column | rows
    column: str | None
    categories: list[str]  # the data categories kept out (keys of the data map)
    ground: str
    reasons: str
    records: int = 0  # rows withheld whole, or rows whose column was withheld


@dataclass
class Answer:
    """Everything the letter and the export say."""

    request: DsarRequest
    outcomes: list[DsarOutcome]
    activities: dict[str, dict[str, Any]]  # slug -> registry record
    organisations: dict[str, dict[str, Any]]
    rows: dict[str, list[datamap.SubjectRows]] = field(default_factory=dict)  # slug -> tables
    consents: list[dict[str, Any]] = field(default_factory=list)
    earlier: list[dict[str, Any]] = field(default_factory=list)
    purposes: dict[str, Any] = field(default_factory=dict)  # consent purpose -> its activity's name {nb, en}
    withheld: list[Withheld] = field(default_factory=list)  # Art. 15(4), Personal Data Act § 16
    generated_at: datetime = field(default_factory=utcnow)


def collect(
    session: Session,
    req: DsarRequest,
    *,
    instance_path: Path,
    secret: str,
    snapshot: Snapshot | None = None,
) -> Answer:
    """Read what the answer needs: the outcomes, the registry, and for access/portability the data itself,
    found as the plan found it: by every verified identifier of the person (`secret`: lifecycle.
    person_identity). The registry and the data map are read once (`snapshot`, else the transaction's,
    shared with a plan made in it)."""
    snap = snapshot or snapshot_of(session)
    outcomes = _outcomes(session, req, snap)
    # the letter prints everything Art. 15(1) lists: the whole record of each activity
    records = snap.activities([o.activity for o in outcomes])
    activities = {o.activity: a.record for o, a in zip(outcomes, records, strict=True)}
    answer = Answer(req, outcomes, activities, snap.organisations())
    identity = snap.identity(req, secret=secret) if req.type in DATA_RIGHTS else {}
    if req.type in DATA_RIGHTS:
        wanted = {o.activity for o in outcomes if o.outcome == "done" and o.applies}
        found = (
            datamap.find_subject_rows(
                session,
                identity=identity,
                instance_path=instance_path,
                activities=wanted,
                tables=snap.tables(),
            )
            if identity and wanted
            else []
        )
        for table_rows in found:
            if table_rows.activity in wanted:
                answer.rows.setdefault(table_rows.activity, []).append(table_rows)
        answer.withheld = withhold(answer.rows, withholdings_of(session, req))
    if req.type == "access":  # her consents under each of her verified addresses and portal ids (Art. 15(1))
        for key in lifecycle.answering_subjects(identity):
            _consents(session, answer, snap, key)
    if req.type == "access":
        others = session.scalars(
            select(DsarRequest)
            .where(DsarRequest.subject_key == req.subject_key, DsarRequest.id != req.id)
            .order_by(DsarRequest.received_at)
        )
        answer.earlier = [
            {
                "reference": r.reference,
                "type": r.type,
                "status": r.status,
                "received_at": r.received_at.isoformat(),
            }
            for r in others
        ]
    return answer


def _outcomes(session: Session, req: DsarRequest, snap: Snapshot) -> list[DsarOutcome]:
    """The request's outcomes: those its plan wrote in this transaction, else read."""
    planned = snap.planned.get(req.id or 0)
    if planned is None:
        return lifecycle.outcomes_of(session, req)
    session.flush()  # their ids, as read ones have
    return list(planned)


def _consents(session: Session, answer: Answer, snap: Snapshot, key: str) -> None:
    """The consents recorded under one of the subject's identifiers (a subject key), with their history
    (Art. 15(1)), read in one query."""
    consents = consent.subject_consents(session, subject=key)
    named = snap.known([s.purpose for s, __ in consents if s.purpose not in answer.activities])
    for state, events in consents:
        answer.consents.append(
            {
                "purpose": state.purpose,
                "status": state.status,
                "history": [
                    {
                        "at": e.at.isoformat(),
                        "status": e.status,
                        "notice_version": e.notice_version,
                        "channel": e.channel,
                        "receipt_id": e.receipt_id,
                    }  # fmt: skip
                    for e in events
                ],
            }
        )
        if state.purpose not in answer.activities:
            activity = named.get(state.purpose)
            name = activity.record.get("name") if activity else None
            answer.purposes[state.purpose] = name or state.purpose


def withholdings_of(session: Session, req: DsarRequest) -> list[DsarWithholding]:
    """The request's withholdings, oldest first."""
    return list(
        session.scalars(
            select(DsarWithholding)
            .where(DsarWithholding.request_id == req.id)
            .order_by(DsarWithholding.created_at, DsarWithholding.id)
        )
    )


def withholding_kind(w: DsarWithholding) -> str:
    """table | column | rows."""
    return "column" if w.column else "rows" if w.row_keys else "table"


def withhold(rows: dict[str, list[datamap.SubjectRows]], found: list[DsarWithholding]) -> list[Withheld]:
    """Take withheld tables, rows and columns out of the answer's rows (in that order, each counted once),
    and return what each withholding kept out."""
    order = {"table": 0, "rows": 1, "column": 2}
    out: dict[int, Withheld] = {}
    for w in sorted(found, key=lambda w: order[withholding_kind(w)]):
        kind = withholding_kind(w)
        tables = rows.get(w.activity, [])
        t = next((t for t in tables if (t.system, t.table) == (w.system, w.table)), None)
        kept = Withheld(w.id or 0, w.activity, w.system, w.table, kind, w.column, [], w.ground, w.reasons)
        out[kept.id] = kept
        if kind == "column":
            kept.categories = [t.categories[w.column]] if t and w.column in t.categories else []
        else:
            kept.categories = sorted(set(t.categories.values())) if t else []
        if t is None:
            continue
        if kind == "table":
            kept.records = len(t.rows)
            tables.remove(t)
        elif kind == "rows":
            keys = set(w.row_keys or [])
            before = len(t.rows)
            t.rows = [r for r in t.rows if str(r.get(t.key)) not in keys]
            kept.records = before - len(t.rows)
        elif w.column in t.categories:
            kept.records = sum(1 for r in t.rows if w.column in r)
            t.rows = [{c: v for c, v in r.items() if c != w.column} for r in t.rows]
            t.categories = {c: v for c, v in t.categories.items() if c != w.column}
    for slug, tables in list(rows.items()):  # a table with nothing left is left out, as one never found is
        tables[:] = [t for t in tables if t.rows]
        if not tables:
            del rows[slug]
    return [out[w.id or 0] for w in found]


class _Zip:
    """A ZIP being written, with the manifest's description of each file."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.files: list[dict[str, Any]] = []

    def add(self, name: str, data: bytes, **meta: Any) -> None:
        self.archive.writestr(name, data)
        self.files.append(
            {"name": name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(), **meta}
        )

    def add_json(self, name: str, value: Any, **meta: Any) -> None:
        self.add(name, json.dumps(value, ensure_ascii=False, indent=2).encode(), format="JSON", **meta)

    def add_table(self, slug: str, t: datamap.SubjectRows) -> None:
        """One table's rows as JSON and as CSV, each described by its columns and their categories."""
        columns = [t.key, *(c for c in t.categories if c != t.key)]
        rows = [{c: datamap.plain_value(r.get(c)) for c in columns} for r in t.rows]
        base = f"{slug}/{t.system}.{t.table}"
        described = [{"name": c, "category": t.categories.get(c)} for c in columns]
        meta = {
            "activity": slug,
            "system": t.system,
            "table": t.table,
            "rows": len(rows),
            "columns": described,
        }
        self.add_json(f"{base}.json", rows, **meta)
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(columns)
        writer.writerows([[neutralise("" if r[c] is None else str(r[c])) for c in columns] for r in rows])
        self.add(f"{base}.csv", ("\ufeff" + text.getvalue()).encode(), format="CSV (UTF-8)", **meta)


def build_export(answer: Answer, letter: bytes) -> bytes:
    """The ZIP: the letter, per activity and table the rows as JSON and CSV, consents, earlier requests, and
    manifest.json describing each file (activity, table, rows, columns and their categories, SHA-256)."""
    req = answer.request
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        out = _Zip(archive)
        out.add("letter.pdf", letter, format="PDF", description="The answer letter")
        for slug, tables in sorted(answer.rows.items()):
            for t in tables:
                out.add_table(slug, t)
        if answer.consents:
            out.add_json("consents.json", answer.consents, description="Your consents and their history")
        if answer.earlier:
            out.add_json("earlier-requests.json", answer.earlier, description="Your earlier requests to us")
        manifest = {
            "reference": req.reference,
            "type": req.type,
            "generated_at": answer.generated_at.isoformat(),
            "description": "The answer to a data-subject request: the letter, and for access and portability "
            "the data held about the subject, one JSON and one CSV file per activity and table. Each "
            "file's columns name the data category they hold.",
            "outcomes": [
                {"activity": o.activity, "outcome": o.outcome, "legal_ground": o.legal_ground}
                for o in answer.outcomes
            ],  # fmt: skip
            "files": out.files,
            "withheld": [  # what was kept out and why; never the withheld values
                {
                    "activity": w.activity,
                    "system": w.system,
                    "table": w.table,
                    "kind": w.kind,
                    "column": w.column,
                    "categories": w.categories,
                    "records": w.records,
                    "ground": GROUNDS[w.ground]["article"] if w.ground in GROUNDS else w.ground,
                    "reasons": w.reasons,
                }
                for w in answer.withheld
                if w.records
            ],
        }
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
    return buffer.getvalue()


# The draft: the letter (PDF and HTML) and the export as the officer reads them before sending.
DRAFT_KINDS = {"draft": "letter", "draft_zip": "export", "draft_html": None}
_FILES = {
    "letter": ("{ref}.pdf", "application/pdf"),
    "export": ("{ref}.zip", "application/zip"),
    "draft": ("{ref}-draft.pdf", "application/pdf"),
    "draft_zip": ("{ref}-draft.zip", "application/zip"),
    "draft_html": ("{ref}-draft.html", "text/html; charset=utf-8"),
}


def _add(session: Session, req: DsarRequest, kind: str, content: bytes) -> DsarDocument:
    name, media = _FILES[kind]
    doc = DsarDocument(
        request_id=req.id or 0,
        kind=kind,
        filename=name.format(ref=req.reference),
        media_type=media,
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
    )
    session.add(doc)
    return doc


def store_draft(
    session: Session, req: DsarRequest, *, letter: bytes, export: bytes, html: str
) -> DsarDocument:
    """Keep a draft answer (replacing an earlier draft); returns the draft letter."""
    discard_draft(session, req)
    _add(session, req, "draft_zip", export)
    _add(session, req, "draft_html", html.encode())
    return _add(session, req, "draft", letter)


def discard_draft(session: Session, req: DsarRequest) -> int:
    """Remove the draft: whatever changes the answer (a withholding, a decision) makes it stale."""
    result = session.execute(
        delete(DsarDocument).where(DsarDocument.request_id == req.id, DsarDocument.kind.in_(DRAFT_KINDS))
    )
    return result.rowcount or 0


def publish_draft(session: Session, req: DsarRequest) -> None:
    """The draft the officer read becomes the answer: its letter and export, unchanged, dated now."""
    session.execute(
        delete(DsarDocument).where(
            DsarDocument.request_id == req.id, DsarDocument.kind.in_(("letter", "export"))
        )
    )
    for doc in session.scalars(
        select(DsarDocument).where(DsarDocument.request_id == req.id, DsarDocument.kind.in_(DRAFT_KINDS))
    ):
        final = DRAFT_KINDS[doc.kind]
        if final is None:
            session.delete(doc)
            continue
        name, _media = _FILES[final]
        doc.kind, doc.filename, doc.created_at = final, name.format(ref=req.reference), utcnow()


def document(session: Session, req: DsarRequest, kind: str) -> DsarDocument | None:
    return session.scalar(
        select(DsarDocument).where(DsarDocument.request_id == req.id, DsarDocument.kind == kind)
    )


def downloadable(req: DsarRequest, *, now: datetime | None = None) -> bool:
    """The subject may download the answer for ANSWER_DAYS after completion."""
    closed = req.closed_at
    if req.status != "completed" or closed is None:
        return False
    return (now or utcnow()) - closed <= timedelta(days=ANSWER_DAYS)


def purge_old_answers(session: Session, *, now: datetime | None = None) -> int:
    """Remove stored data exports older than ANSWER_DAYS; the letter stays with the request.

    The closed request and its letter are case documents of the request-handling activity (its record in
    policies/: kept under the Archives Act); the ZIP is a copy of the subject's data made only to be handed
    over, so it goes once the download period has passed.
    """
    limit = (now or utcnow()) - timedelta(days=ANSWER_DAYS)
    result = session.execute(
        delete(DsarDocument).where(DsarDocument.kind == "export", DsarDocument.created_at < limit)
    )
    return result.rowcount or 0
