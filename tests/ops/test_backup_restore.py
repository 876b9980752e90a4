"""Backups as docs/deployment.md describes them: pg_dump of the service database, then a restore.

An erasure approved after the nightly dump is lost from the restored service database, and the data systems
restored from their own backups have the person's rows again. The erasure ledger lives in the instance folder,
outside the dump; `privacy-service dsar replay-erasures` on the restored deployment erases them again.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from deployment import Deployment, call, settle_over_http, wait_until
from pgcluster import pg_bin

pytestmark = pytest.mark.ops

KARI = {"email": "kari.nordmann@example.no", "name": "Kari Nordmann", "national_id": "15838512671"}
SYSTEMS = ("helsedata_portal.db", "helsedata_support.db", "helsedata_survey.db")


def _kari(instance: Path) -> dict[str, int]:
    where = "lower(email) = 'kari.nordmann@example.no'"
    found = {}
    for file, table in (
        ("helsedata_portal.db", "accounts"),
        ("helsedata_portal.db", "applications"),
        ("helsedata_support.db", "support_enquiries"),
        ("helsedata_survey.db", "survey_responses"),
    ):
        with sqlite3.connect(instance / "demo" / file) as conn:
            found[table] = conn.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchone()[0]  # noqa: S608
    return found


def _pg(server: dict, *args: str) -> None:
    subprocess.run(
        [*args, "-h", server["host"], "-p", str(server["port"]), "-U", server["user"]],
        check=True,
        capture_output=True,
    )


def test_a_restore_from_pg_dump_and_the_erasure_replay_erase_again(
    make_deployment: Callable[..., Deployment],
) -> None:
    deployment = make_deployment()
    deployment.demo(people=20)
    scopes = ("requests:read", "requests:write", "requests:write:verified", "requests:manage")
    key = {"Authorization": f"Bearer {deployment.api_key(*scopes)}"}
    web = deployment.serve(workers=1)
    deployment.scheduler()
    before = _kari(deployment.instance)
    assert before["accounts"] == 1 and before["support_enquiries"] >= 1

    # the nightly backup: the service database with pg_dump, the data systems with their own tools
    backup = deployment.root / "backup"
    backup.mkdir()
    dump = backup / "privacy.dump"
    _pg(deployment.server, pg_bin("pg_dump"), "-Fc", "-f", str(dump), "-d", deployment.dbname)
    for file in SYSTEMS:
        shutil.copy(deployment.instance / "demo" / file, backup / file)

    # the next day Kari's erasure is approved
    body = {"type": "erasure", "subject": KARI, "verified_by": "ID-porten"}
    reference = call(web.url + "/api/v1/requests", "POST", body=body, headers=key).json()["reference"]
    url = f"{web.url}/api/v1/requests/{reference}"
    wait_until(
        lambda: call(url, headers=key).json()["status"] == "awaiting_decision", timeout=60, what="plan"
    )
    settle_over_http(url, key)
    assert call(url + "/approve", "POST", body={}, headers=key).status == 200
    erased = _kari(deployment.instance)
    assert erased["accounts"] == 0 and erased["survey_responses"] == 0
    assert erased["applications"] == before["applications"]  # archived under the Archives Act: kept
    for process in deployment.processes:
        process.stop()

    # disaster: everything comes back from the backup, which predates the erasure
    restored = Deployment(deployment.server, deployment.root, dbname=f"{deployment.dbname}_restored")
    try:
        _pg(deployment.server, pg_bin("pg_restore"), "--no-owner", "-d", restored.dbname, str(dump))
        for file in SYSTEMS:
            shutil.copy(backup / file, restored.instance / "demo" / file)
        assert _kari(restored.instance) == before
        with restored.connect() as conn:
            assert (
                conn.execute(
                    "SELECT count(*) FROM dsar_request WHERE reference = %s", (reference,)
                ).fetchone()[0]
                == 0
            )

        dry = restored.cli("dsar", "replay-erasures", "--dry-run")
        assert "would erase" in dry and _kari(restored.instance) == before
        replay = restored.cli("dsar", "replay-erasures")
        assert "erased" in replay, replay
        again = _kari(restored.instance)
        assert again == erased, (again, erased)
        assert "ok" in restored.cli("audit", "verify").lower()
        replayed = restored.cli("dsar", "replay-erasures")  # running it twice erases nothing more
        assert "erased 0 rows" in replayed, replayed
    finally:
        restored.close()
