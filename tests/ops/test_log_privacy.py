"""After a full end-to-end run of the deployment, its logs name none of the demo persons.

The run goes through every way a person's identity reaches the service: the public request form (e-mail and
national identity number), the e-mail confirmation and the status page, the requests API with a verified
identity, the officer's plan, approval and completion with the answer downloaded, an erasure, consents
recorded and read with the e-mail address in the URL, a failed login with an e-mail address as user name, and
the scheduler delivering the outbox and running retention. Then every log line of the web server (access and
application log) and of the scheduler is scanned for every demo person's e-mail address and national
identity number.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from deployment import Browser, Deployment, call, settle_over_http, wait_until

from privacy_service.security.service import SCOPES

pytestmark = pytest.mark.ops

KARI_EMAIL, KARI_NID = "kari.nordmann@example.no", "15838512671"


def _demo_identities(instance: Path) -> set[str]:
    found: set[str] = set()
    for db in (instance / "demo").glob("*.db"):
        with sqlite3.connect(db) as conn:
            tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for table in tables:
                columns = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
                for column in {"email", "national_id"} & columns:
                    found |= {v for (v,) in conn.execute(f"SELECT {column} FROM {table}") if v}
    return found


def test_the_logs_of_a_full_run_name_none_of_the_demo_persons(
    make_deployment: Callable[..., Deployment],
) -> None:
    deployment = make_deployment(PRIVACY_OFFICER_EMAIL="personvern@example.org")
    demo_output = deployment.demo(people=40)
    people = _demo_identities(deployment.instance)
    assert KARI_EMAIL in people and KARI_NID in people and len(people) > 60
    key = {"Authorization": f"Bearer {deployment.api_key(*SCOPES, name='e2e')}"}
    web = deployment.serve(workers=2)
    scheduler = deployment.scheduler()
    api = web.url + "/api/v1"

    # 1. Kari asks for access on the public form, with her national identity number, and confirms by mail.
    kari = Browser(web.url)
    url, page = kari.submit(
        "/requests/new?lang=en",
        {"type": "access", "name": "Kari Nordmann", "email": KARI_EMAIL, "national_id": KARI_NID},
    )
    status = re.search(r'href="(/requests/status/[\w-]+)"', page)
    assert status, page[-2000:]
    outbox = deployment.instance / "outbox"

    def confirmation() -> re.Match | None:  # the demo's survey receipts are in the outbox too
        mails = (m.read_text() for m in outbox.glob("*.eml")) if outbox.is_dir() else ()
        return next((v for v in (re.search(r"(/requests/verify/[\w-]+)", m) for m in mails) if v), None)

    wait_until(confirmation, timeout=30, what="the confirmation mail")
    verify = confirmation()
    assert verify
    kari.submit(verify.group(1), {})
    assert "DSR-" in kari.get(status.group(1) + "?lang=en")

    # 2. A portal files an erasure for another person with a verified identity; an officer acts on both.
    other = sorted(p for p in people if p.endswith("@example.no") and p != KARI_EMAIL)[0]
    erasure = call(
        api + "/requests",
        "POST",
        body={"type": "erasure", "subject": {"email": other}, "verified_by": "ID-porten"},
        headers=key,
    ).json()
    references = [r["reference"] for r in call(api + "/requests", headers=key).json()]
    assert erasure["reference"] in references and len(references) >= 2
    for reference in references:
        wait_until(
            lambda ref=reference: (
                call(f"{api}/requests/{ref}", headers=key).json()["status"] == "awaiting_decision"
            ),
            timeout=60,
            what=f"{reference} planned by the scheduler",
        )
        settle_over_http(f"{api}/requests/{reference}", key)
        assert call(f"{api}/requests/{reference}/approve", "POST", body={}, headers=key).status == 200
    access = next(r for r in references if r != erasure["reference"])
    drafted = call(f"{api}/requests/{access}/draft", "POST", body={}, headers=key)
    assert drafted.status == 200
    sha = drafted.json()["draft"]["sha256"]
    assert call(f"{api}/requests/{access}/complete", "POST", body={"draft": sha}, headers=key).status == 200
    assert call(f"{api}/requests/{access}/package", headers=key).status == 200

    # 3. Consents with the e-mail address in the URL, read back, queried, and the processing status.
    for person in (KARI_EMAIL, other):
        changed = call(
            f"{api}/consents/{person}/surveys",
            "PUT",
            body={"status": "given", "notice_version": "1"},
            headers=key,
        )
        assert changed.status in (200, 201), changed.body
        assert call(f"{api}/consents/{person}/surveys", headers=key).status == 200
        assert call(f"{api}/subjects/{person}/processing?activity=surveys", headers=key).status == 200
    pairs = {"pairs": [{"subject": KARI_EMAIL, "purpose": "surveys"}]}
    assert call(api + "/consents:query", "POST", body=pairs, headers=key).status == 200

    # 4. Someone types an e-mail address as a user name; an officer logs in and opens Kari's request.
    intruder = Browser(web.url)
    with contextlib.suppress(OSError):  # 401: the answer to a wrong password
        intruder.submit("/login", {"username": KARI_EMAIL, "password": KARI_NID})
    officer = Browser(web.url)
    password = re.search(r"log in as officer\s+password (\S+)", demo_output)
    assert password
    officer.submit("/login", {"username": "officer", "password": password.group(1)})
    assert access in officer.get(f"/officer/requests/{access}")

    # 5. The scheduler delivers what is queued and runs a retention pass through the API.
    assert call(api + "/retention/runs", "POST", body={"dry_run": True}, headers=key).status == 201
    time.sleep(6)  # a delivery round of the scheduler
    for process in (web, scheduler):
        assert process.alive(), process.log.read_text()[-3000:]
    web.stop()
    scheduler.stop()

    logs = {p.name: p.read_text(errors="replace") for p in (web.log, scheduler.log)}
    assert len(logs[web.log.name].splitlines()) > 50  # the access log is on: there is something to scan
    leaks = sorted(
        f"{name}: {identity}" for name, text in logs.items() for identity in people if identity in text
    )
    assert leaks == []
