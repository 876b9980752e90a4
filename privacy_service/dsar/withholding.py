"""Withholding: data the officer keeps out of an access or portability answer, and what the letter says of it.

A withholding names a table of the data map, one of its columns, or rows by their key values, with a ground
(Art. 15(4): the rights and freedoms of others; or Personal Data Act § 16(1)(a)–(f)) and written reasons.
answer.withhold takes the data out of the answer, so neither the letter nor the ZIP holds it; the letter
tells the subject what kind of data was withheld, how many records, on which ground and why: a partial
refusal she may complain about to Datatilsynet (Art. 12(4)). Audit details carry counts, never row keys.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from privacy_service.audit import Actor
from privacy_service.catalogue import ByLanguage
from privacy_service.datamap import service as datamap
from privacy_service.dsar import lifecycle
from privacy_service.dsar.answer import DATA_RIGHTS, Answer, Withheld, discard_draft, withholdings_of
from privacy_service.dsar.decisions import ground_text
from privacy_service.dsar.letter import Block
from privacy_service.dsar.models import DsarRequest, DsarWithholding
from privacy_service.errors import N_, Code, Conflict, NotFound, ValidationFailed, worded
from privacy_service.wording import localised

GROUNDS = ("art_15_4", "pdl_16_a", "pdl_16_b", "pdl_16_c", "pdl_16_d", "pdl_16_e", "pdl_16_f")
MAX_ROWS = 1000  # row keys one withholding may list

T = ByLanguage("withheld")


def _check_open(req: DsarRequest) -> None:
    """Only an approved access or portability request not yet answered can have data withheld."""
    if req.type not in DATA_RIGHTS:
        raise Conflict(
            worded(
                "Request %(ref)s is about: %(right)s. Only access and portability answers "
                "hold data to withhold.",
                ref=req.reference,
                right=Code("letter.rights_words", req.type),
            )
        )
    if req.status != "in_progress" or req.decided_at is None:
        raise Conflict(
            worded(
                "Request %(ref)s is %(status)s: data can be withheld once the plan is approved and until the "
                "request is completed.",
                ref=req.reference,
                status=Code("letter.status", req.status),
            )
        )


def _problems(session: Session, req: DsarRequest, data: dict[str, Any]) -> dict[str, list[str]]:
    """What is wrong with a withholding: its ground, reasons, and the table and column in the data map."""
    problems: dict[str, list[str]] = {}
    if data.get("ground") not in GROUNDS:
        problems["ground"] = [f"One of: {', '.join(GROUNDS)}."]
    if not (data.get("reasons") or "").strip():
        problems["reasons"] = [N_("Give the reasons; the subject is told them.")]
    if data.get("column") and data.get("rows"):
        problems["rows"] = [N_("Withhold a column or rows, not both in one withholding.")]
    activity = data.get("activity")
    if activity not in {o.activity for o in lifecycle.outcomes_of(session, req)}:
        problems["activity"] = [f"Request {req.reference} does not cover that activity."]
        return problems
    tables = {(s.name, t.table_name): t for s, t in datamap.tables_for_activity(session, activity=activity)}
    table = tables.get((data.get("system"), data.get("table")))
    if table is None:
        problems["table"] = [N_("No table of that system holds this activity's data in the data map.")]
    elif (column := data.get("column")) and (column not in table.columns or column == table.key_column):
        problems["column"] = [N_("Not a data column of that table (the key column identifies the rows: "
                              "withhold the rows or the table instead).")]  # fmt: skip
    return problems


def add(session: Session, req: DsarRequest, *, data: dict[str, Any], actor: Actor) -> DsarWithholding:
    """Withhold a table, a column or rows from the request's answer, with a ground and reasons."""
    _check_open(req)
    if problems := _problems(session, req, data):
        raise ValidationFailed(N_("The withholding is not valid."), fields=problems)
    keys = list(dict.fromkeys(str(k) for k in data.get("rows") or [])) or None
    withholding = DsarWithholding(
        request_id=req.id or 0,
        activity=data["activity"],
        system=data["system"],
        table=data["table"],
        column=data.get("column") or None,
        row_keys=keys,
        ground=data["ground"],
        reasons=data["reasons"].strip(),
        created_by=str(actor),
    )
    session.add(withholding)
    session.flush()
    discard_draft(session, req)  # the draft no longer says what the answer will hold
    lifecycle.record(session, req, "withheld", actor, visible=False, details=_details(withholding))
    return withholding


def remove(session: Session, req: DsarRequest, *, withholding_id: int, actor: Actor) -> None:
    """Put withheld data back into the answer (before it is completed)."""
    withholding = session.get(DsarWithholding, withholding_id)
    if withholding is None or withholding.request_id != req.id:
        raise NotFound(
            worded(
                "Request %(ref)s has no withholding %(withholding_id)s.",
                ref=req.reference,
                withholding_id=withholding_id,
            )
        )
    _check_open(req)
    details = _details(withholding)
    session.delete(withholding)
    session.flush()
    discard_draft(session, req)
    lifecycle.record(session, req, "withholding_removed", actor, visible=False, details=details)


def listed(session: Session, req: DsarRequest) -> list[DsarWithholding]:
    """The request's withholdings, oldest first (only access and portability answers have any)."""
    return withholdings_of(session, req) if req.type in DATA_RIGHTS else []


def tables_of(session: Session, req: DsarRequest) -> list[dict[str, Any]]:
    """The tables the officer may withhold from (the data map's tables of the request's activities), each
    with its data columns (the key column identifies rows and is not one of them)."""
    if req.type not in DATA_RIGHTS:
        return []
    return [
        {
            "activity": o.activity,
            "system": system.name,
            "table": table.table_name,
            "columns": sorted(c for c in table.columns if c != table.key_column),
        }  # fmt: skip
        for o in lifecycle.outcomes_of(session, req)
        if o.records is not None
        for system, table in datamap.tables_for_activity(session, activity=o.activity)
    ]


def _details(w: DsarWithholding) -> dict[str, Any]:
    """Audit and timeline details: where and on which ground, the number of rows listed, never their keys."""
    return {"withholding": w.id, "activity": w.activity, "system": w.system, "table": w.table,
            "column": w.column, "rows": len(w.row_keys or []), "ground": w.ground}  # fmt: skip


# --- the letter ---------------------------------------------------------------------------------------------


def letter_blocks(answer: Answer, lang: str) -> list[Block]:
    """The letter's part on withheld data (letter.py blocks): per withholding the activity, the kind of data
    by its category labels, how many records, the ground and the reasons; then the partial refusal."""
    withheld = [w for w in answer.withheld if w.records]
    if not withheld:
        return []
    t = T[lang if lang in T else "nb"]
    blocks: list[Block] = [("h1", t["head"]), ("p", t["intro"])]
    for w in withheld:
        activity = answer.activities.get(w.activity) or {}
        blocks.append(
            ("pairs", [
                (t["activity"], localised(activity.get("name"), lang) or t["other"]),
                (t["data"], t["kinds"][w.kind].format(labels=_labels(w, activity, lang))),
                (t["records"], str(w.records)),
                (t["ground"], ground_text(w.ground, lang)),
                (t["reasons"], w.reasons),
            ])
        )  # fmt: skip
    blocks.append(("p", t["partial"]))
    return blocks


def _labels(w: Withheld, activity: dict[str, Any], lang: str) -> str:
    """The withheld data categories by the registry's labels; never a column name or a key."""
    other = T[lang if lang in T else "nb"]["other"]
    named = {c.get("key"): localised(c.get("name"), lang) for c in activity.get("data_categories") or []}
    return ", ".join(dict.fromkeys(named.get(c) or other for c in w.categories)) or other
