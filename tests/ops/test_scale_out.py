"""The scale-out deployment: two `serve` instances and the scheduler on one PostgreSQL, rate limits in Redis.

A write on one instance is read on the other at once, a rate limit counts requests to both instances
together, a logout on one instance ends the session on the other, and with two schedulers running by
mistake every outbox message still goes out once.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from deployment import Browser, Deployment, call, wait_until

from privacy_service.security.service import SCOPES

pytestmark = pytest.mark.ops


def test_two_instances_share_the_database_the_rate_limits_and_the_sessions(
    make_deployment: Callable[..., Deployment], redis_url: str
) -> None:
    deployment = make_deployment(PRIVACY_RATELIMIT_STORAGE=redis_url)
    out = deployment.demo(people=10)
    key = {"Authorization": f"Bearer {deployment.api_key(*SCOPES)}"}
    a, b = deployment.serve(workers=2, name="serve-a"), deployment.serve(workers=2, name="serve-b")

    # read-your-writes across instances, for consent and for the registry
    for n in range(20):
        subject = f"both{n}@example.org"
        status = "given" if n % 2 else "withdrawn"
        written = call(
            f"{a.url}/api/v1/consents/{subject}/surveys",
            "PUT",
            body={"status": status, "notice_version": "1"},
            headers=key,
        )
        assert written.status == 200, written.body
        read = call(f"{b.url}/api/v1/consents/{subject}/surveys", headers=key)
        assert read.status == 200 and read.json()["status"] == status
        assert read.headers["ETag"] == written.headers["ETag"]
    activity = call(f"{a.url}/api/v1/activities/accounts", headers=key)
    read_only = ("version", "created_at", "updated_at", "updated_by", "rights")
    record = {k: v for k, v in activity.json().items() if k not in read_only}
    record["owner"] = "Changed on instance A"
    changed = call(
        f"{a.url}/api/v1/activities/accounts",
        "PUT",
        body=record,
        headers={**key, "If-Match": activity.headers["ETag"]},
    )
    assert changed.status == 200, changed.body
    seen = call(f"{b.url}/api/v1/activities/accounts", headers=key).json()
    assert seen["owner"] == "Changed on instance A" and seen["version"] == activity.json()["version"] + 1

    # a session started on A works on B, and a logout on B ends it on A too (one login: 1 of the 10 a minute)
    password = re.search(r"log in as officer\s+password (\S+)", out)
    assert password
    officer = Browser(a.url)
    officer.submit("/login", {"username": "officer", "password": password.group(1)})
    officer.base = b.url
    assert "/login" not in officer.opener.open(b.url + "/officer/requests/").geturl()
    officer.submit("/logout", {}, form_page="/officer/activities")
    assert "/login" in officer.opener.open(a.url + "/officer/activities").geturl()

    # the login limit (10 a minute per address) counts both instances together: 9 more tries, then 429
    statuses = []
    for i in range(10):
        browser = Browser((a if i % 2 else b).url)
        try:
            browser.submit("/login", {"username": f"nobody{i}", "password": "wrong-password"})
            statuses.append(200)
        except OSError as err:  # urllib raises HTTPError for 401 and 429
            statuses.append(getattr(err, "code", -1))
    assert statuses == [401] * 9 + [429]


def test_with_two_schedulers_every_message_goes_out_once(make_deployment: Callable[..., Deployment]) -> None:
    deployment = make_deployment()
    deployment.demo(people=10)
    key = {"Authorization": f"Bearer {deployment.api_key('requests:write')}"}
    web = deployment.serve(workers=2)
    deployment.scheduler(name="scheduler-1")
    deployment.scheduler(name="scheduler-2")
    for n in range(30):
        created = call(
            web.url + "/api/v1/requests",
            "POST",
            body={"type": "access", "subject": {"email": f"once{n}@example.org"}},
            headers=key,
        )
        assert created.status == 201
    outbox = deployment.instance / "outbox"

    def delivered() -> int:
        with deployment.connect() as conn:
            row = conn.execute(
                "SELECT count(*) FROM outbox_message WHERE event = 'dsar.verify' AND status = 'delivered'"
            )
            return int(row.fetchone()[0])

    wait_until(lambda: delivered() >= 30, timeout=90, what="30 confirmation mails delivered")
    time.sleep(6)  # one more round of both schedulers
    # The demo mailed its survey consents' receipts too; these are the confirmations of the 30 requests.
    recipients = [m.read_text().split("To: ", 1)[1].split("\n", 1)[0] for m in outbox.glob("*.eml")]
    confirmations = [r for r in recipients if r.startswith("once")]
    assert len(confirmations) == 30 and len(set(confirmations)) == 30
    with deployment.connect() as conn:
        attempts = conn.execute(
            "SELECT count(*) FROM delivery_attempt JOIN outbox_message m ON m.id = message_id"
            " WHERE m.event = 'dsar.verify'"
        ).fetchone()[0]
    assert attempts == 30  # one attempt each: neither scheduler sent what the other had taken
