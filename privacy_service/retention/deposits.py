"""Deposits with the National Archives in two steps: an extract now, the deletion on the archive's receipt.

A deposit rule writes an ADDML extract of the due rows and records a deposit naming their keys; the rows stay
in the data system, protected from every rule, until an officer records the archive's receipt (Archives Act:
no disposal without authority). Then exactly those rows are deleted, in bounded batches, and the receipt kept.
A rejected extract can be remade; a receipt whose deletion was cut short is finished by the next run.
"""

from __future__ import annotations

import shutil
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, not_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from privacy_service.audit import Actor, record_event
from privacy_service.datamap.expiry import DueTable, open_due_table
from privacy_service.datamap.service import DataSystemError
from privacy_service.errors import N_, Code, Conflict, NotFound, worded
from privacy_service.kernel import utcnow
from privacy_service.retention import addml
from privacy_service.retention.due import protection
from privacy_service.retention.holds import TableRef, holds_for_table
from privacy_service.retention.models import RetentionDeposit
from privacy_service.retention.rules import list_rules
from privacy_service.ropa import service as ropa

DELETE_BATCH = 1000  # keys per DELETE statement and transaction
WAITING = "pending_receipt"


def waiting_keys(session: Session, *, system: str, table: str) -> list[str]:
    """Keys of rows deposited and not yet deleted: no rule may touch them, no run deposit them again."""
    query = select(RetentionDeposit.keys).where(
        RetentionDeposit.system == system,
        RetentionDeposit.table_name == table,
        RetentionDeposit.deleted_at.is_(None),  # type: ignore[union-attr]
        RetentionDeposit.status.in_((WAITING, "received")),  # type: ignore[attr-defined]
    )
    return [str(k) for keys in session.scalars(query) for k in keys]


def list_deposits(session: Session, *, status: str | None = None) -> list[RetentionDeposit]:
    """Deposits, newest first."""
    query = select(RetentionDeposit).order_by(RetentionDeposit.id.desc())  # type: ignore[union-attr]
    if status:
        query = query.where(RetentionDeposit.status == status)
    return list(session.scalars(query))


def get_deposit(session: Session, *, deposit_id: int) -> RetentionDeposit:
    """One deposit; raise NotFound."""
    deposit = session.get(RetentionDeposit, deposit_id)
    if deposit is None:
        raise NotFound(N_("No deposit has this id."))
    return deposit


def _creator(session: Session, activity: str) -> tuple[str, str]:
    """The archive creator: the activity's controller, by name and organisation number."""
    controller = ropa.activity_view(session, slug=activity).controller
    org = ropa.list_organisations(session).get(controller, {})
    name = org.get("name", {})
    return (name.get("nb") or name.get("en") or controller), str(org.get("org_number", "")).replace(" ", "")


def make_deposit(
    engine: Engine,
    due: DueTable,
    where: ColumnElement[bool],
    *,
    activity: str,
    rule: str,
    run_id: int | None,
    instance_path: Path,
    actor: Actor,
    remade_from: int | None = None,
) -> RetentionDeposit | None:
    """Write the extract of the rows matching `where` and record the deposit; None when no row matches."""
    with Session(engine) as session:
        creator = _creator(session, activity)
    staging = instance_path / "deposits" / f"tmp-{uuid.uuid4().hex}"
    staging.mkdir(parents=True)
    try:
        extract, keys = _write_extract(staging, due, where, creator)
        if not keys:
            shutil.rmtree(staging)
            return None
        with Session(engine, expire_on_commit=False) as session, session.begin():
            deposit = RetentionDeposit(
                run_id=run_id, activity=activity, system=due.system.name, table_name=due.mapping.table_name,
                rule=rule, rows=len(keys), keys=keys, path=str(staging), files=extract.files,
                created_at=extract.created_at, remade_from=remade_from,
            )  # fmt: skip
            session.add(deposit)
            session.flush()
            folder = instance_path / "deposits" / f"deposit-{deposit.id}"
            deposit.path = str(folder)
            _audit(session, deposit, actor, "retention.deposit.extract", files=len(extract.files))
            shutil.rmtree(folder, ignore_errors=True)  # a folder left by a deposit whose record rolled back
            staging.rename(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return deposit


def _write_extract(
    folder: Path, due: DueTable, where: ColumnElement[bool], creator: tuple[str, str]
) -> tuple[addml.Extract, list[str]]:
    """Write the table's rows and addml.xml into `folder`; return the extract and the keys written."""
    columns = [(c.name, addml.data_type(_python_type(c))) for c in due.table.columns]
    keys: list[str] = []
    anchors: list[Any] = []
    key_at = [c.name for c in due.table.columns].index(due.mapping.key_column)
    anchor_at = [c.name for c in due.table.columns].index(due.anchor) if due.anchor in due.table.c else None

    def rows(result: Any) -> Any:
        for row in result:
            keys.append(str(row[key_at]))
            if anchor_at is not None and row[anchor_at] is not None:
                anchors.append(row[anchor_at])
            yield tuple(row)

    with due.rows(where) as result:
        count, entry = addml.write_rows(folder / f"{due.mapping.table_name}.csv", rows(result))
    period = (addml._text(min(anchors)), addml._text(max(anchors))) if anchors else (None, None)
    extract = addml.Extract(
        creator_name=creator[0], creator_org_number=creator[1], system=due.system.name,
        table=due.mapping.table_name, columns=columns, created_at=utcnow(), period=period, rows=count,
        files=[entry],
    )  # fmt: skip
    addml.write_addml(folder, extract)
    return extract, keys


def _python_type(column: Any) -> type | None:
    try:
        return column.type.python_type
    except NotImplementedError:
        return None


def _audit(session: Session, deposit: RetentionDeposit, actor: Actor, action: str, **details: Any) -> None:
    # counts and references only: the keys and the rows stay out of the audit trail
    record_event(
        session,
        actor=actor,
        action=action,
        object_type="retention_deposit",
        object_id=str(deposit.id),
        details={"activity": deposit.activity, "table": f"{deposit.system}.{deposit.table_name}",
                 "rows": deposit.rows, **details},
    )  # fmt: skip


def _waiting(session: Session, deposit_id: int) -> RetentionDeposit:
    deposit = get_deposit(session, deposit_id=deposit_id)
    if deposit.status != WAITING:
        raise Conflict(
            worded(
                "Deposit %(deposit_id)s is %(status)s: only a deposit pending receipt can change.",
                deposit_id=deposit_id,
                status=Code("deposit_status", deposit.status),
            )
        )
    return deposit


def record_receipt(
    engine: Engine,
    *,
    deposit_id: int,
    archive_reference: str,
    received_at: datetime,
    actor: Actor,
    instance_path: Path,
) -> RetentionDeposit:
    """Record the archive's receipt, then delete exactly the deposited rows (the receipt is kept)."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        deposit = _waiting(session, deposit_id)
        deposit.status, deposit.archive_reference = "received", archive_reference
        deposit.received_at, deposit.received_by = received_at, str(actor)
        _audit(session, deposit, actor, "retention.deposit.receipt", archive_reference=archive_reference)
    return delete_deposited(engine, deposit_id=deposit_id, actor=actor, instance_path=instance_path)


def delete_deposited(
    engine: Engine, *, deposit_id: int, actor: Actor, instance_path: Path
) -> RetentionDeposit:
    """Delete a received deposit's rows in batches and record how many went; a failure leaves it for the
    next run (deleting keys already gone is harmless)."""
    with Session(engine, expire_on_commit=False) as session:
        deposit = get_deposit(session, deposit_id=deposit_id)
        try:
            with open_due_table(
                session, system=deposit.system, table=deposit.table_name, anchor=None, cutoff=utcnow(),
                action="delete", mask_columns=(), instance_path=instance_path,
            ) as due:  # fmt: skip
                # a legal or other hold set since the extract still wins; the archive-law hold ends here
                holds = [h for h in holds_for_table(session, _table_ref(deposit)) if h.kind != "archive_law"]
                keep, __ = protection(holds, set(due.mapping.identity))
                deleted = 0 if keep.everything else due.delete_keys(list(deposit.keys), DELETE_BATCH, keep)
        except DataSystemError:
            return deposit
    with Session(engine, expire_on_commit=False) as session, session.begin():
        deposit = get_deposit(session, deposit_id=deposit_id)
        deposit.deleted_rows, deposit.deleted_at = deleted, utcnow()
        _audit(session, deposit, actor, "retention.deposit.deleted", deleted=deleted)
    return deposit


def _table_ref(deposit: RetentionDeposit) -> TableRef:
    return TableRef(deposit.system, deposit.table_name, deposit.activity)


def finish_received(engine: Engine, *, actor: Actor, instance_path: Path) -> int:
    """Finish deleting the rows of received deposits whose deletion was cut short; return how many."""
    with Session(engine) as session:
        ids = list(
            session.scalars(
                select(RetentionDeposit.id).where(
                    RetentionDeposit.status == "received",
                    RetentionDeposit.deleted_at.is_(None),  # type: ignore[union-attr]
                )
            )
        )
    for deposit_id in ids:
        delete_deposited(engine, deposit_id=deposit_id or 0, actor=actor, instance_path=instance_path)
    return len(ids)


def reject_deposit(session: Session, *, deposit_id: int, reason: str, actor: Actor) -> RetentionDeposit:
    """Record that the archive rejected the extract: its rows are free to be deposited again."""
    deposit = _waiting(session, deposit_id)
    deposit.status, deposit.rejected_reason, deposit.rejected_at = "rejected", reason, utcnow()
    session.flush()
    _audit(session, deposit, actor, "retention.deposit.reject")
    return deposit


def remake_deposit(engine: Engine, *, deposit_id: int, actor: Actor, instance_path: Path) -> RetentionDeposit:
    """Make a new extract of a rejected deposit's rows (those still there) as a new deposit."""
    with Session(engine) as session:
        old = get_deposit(session, deposit_id=deposit_id)
        if old.status != "rejected":
            raise Conflict(
                worded(
                    "Deposit %(deposit_id)s is %(status)s: only a rejected deposit can be remade.",
                    deposit_id=deposit_id,
                    status=Code("deposit_status", old.status),
                )
            )
        again = session.scalar(select(RetentionDeposit.id).where(RetentionDeposit.remade_from == deposit_id))
        taken = set(waiting_keys(session, system=old.system, table=old.table_name))
        if again is not None:
            raise Conflict(
                worded(
                    "Deposit %(deposit_id)s was remade as deposit %(again)s.",
                    deposit_id=deposit_id,
                    again=again,
                )
            )
        keys = [k for k in old.keys if k not in taken]
        rule_anchor = _rule_anchor(session, old)
        with open_due_table(
            session, system=old.system, table=old.table_name, anchor=rule_anchor, cutoff=utcnow(),
            action="deposit", mask_columns=(), instance_path=instance_path,
        ) as due:  # fmt: skip
            python_type = _python_type(due.key) or str
            where = due.key.in_([python_type(k) for k in keys]) if keys else not_(due.key.is_not(None))
            deposit = make_deposit(
                engine, due, where, activity=old.activity, rule=old.rule, run_id=None,
                instance_path=instance_path, actor=actor, remade_from=deposit_id,
            )  # fmt: skip
    if deposit is None:
        raise Conflict(
            worded("None of deposit %(deposit_id)s's rows are left to deposit.", deposit_id=deposit_id)
        )
    return deposit


def _rule_anchor(session: Session, deposit: RetentionDeposit) -> str | None:
    for rule in list_rules(session):
        if rule.key == deposit.rule:
            return rule.anchor
    return None
