"""The plan's snapshot of the registry, the data map and the holds: read once, never stale."""

from __future__ import annotations

from typing import Any

import pytest
from round_trips import counting
from sqlmodel import select

from privacy_service.dsar.snapshot import snapshot_of
from privacy_service.errors import NotFound
from privacy_service.retention.service import TableRef
from privacy_service.ropa.models import ProcessingActivity

SUPPORT = TableRef("helsedata-support", "support_enquiries", "support")


def test_a_snapshot_reads_each_part_once_in_its_transaction(db: Any) -> None:
    snap = snapshot_of(db)
    with counting() as trips:
        for __ in range(3):
            assert [a.slug for a in snap.activities(["surveys", "accounts"])] == ["surveys", "accounts"]
            assert {t.table_name for __, t in snap.tables()} >= {"accounts", "support_enquiries"}
            assert snap.holds([SUPPORT]) == {SUPPORT: []}
            assert snap.organisations()
            assert snapshot_of(db) is snap
    assert trips.kinds["statement"] == 4, trips.report()


def test_an_unknown_activity_is_not_found_as_before(db: Any) -> None:
    with pytest.raises(NotFound):
        snapshot_of(db).activities(["accounts", "no-such-activity"])
    assert list(snapshot_of(db).known(["accounts", "no-such-activity"])) == ["accounts"]


def test_a_registry_change_in_the_same_transaction_drops_the_snapshot(db: Any) -> None:
    snap = snapshot_of(db)
    snap.activities(["accounts"])
    row = db.scalars(select(ProcessingActivity).where(ProcessingActivity.slug == "accounts")).one()
    row.version += 1
    db.flush()
    fresh = snapshot_of(db)
    assert fresh is not snap and fresh.activities(["accounts"])[0].version == row.version


def test_a_snapshot_ends_with_its_transaction_and_with_a_savepoint(db: Any) -> None:
    snap = snapshot_of(db)
    db.commit()
    assert snapshot_of(db) is not snap
    with db.begin_nested():
        inner = snapshot_of(db)
    assert snapshot_of(db) is not inner
