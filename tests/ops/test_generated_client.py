"""A client generated from the OpenAPI description (openapi-python-client) walks the README's curl steps
against the service as the README runs it (demo data, gunicorn, PostgreSQL): Kari's survey consent read and
withdrawn with If-Match, the status a portal then reads, and an access request on her (issue 20, item 1).

The generator must take the description without a warning: a warning means a schema it skipped, and a
developer's client would miss that part of the API."""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from deployment import Deployment

pytestmark = pytest.mark.ops

KARI = "kari.nordmann@example.no"
PACKAGE = "privacy_client"


@pytest.fixture
def generated(tmp_path: Path) -> Iterator[Callable[[str], ModuleType]]:
    """Generate the client from a running service's description and import it."""

    def generate(base_url: str) -> ModuleType:
        spec = tmp_path / "openapi.json"
        spec.write_text(httpx.get(f"{base_url}/api/openapi.json", timeout=30).text)
        tool = shutil.which("openapi-python-client")
        assert tool, "openapi-python-client is a test dependency: pip install -e '.[test]'"
        done = subprocess.run(
            [
                tool,
                "generate",
                "--path",
                str(spec),
                "--output-path",
                str(tmp_path / PACKAGE),
                "--meta",
                "none",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        said = done.stdout + done.stderr
        assert done.returncode == 0, said
        assert "Warning" not in said and "Unable to" not in said, said
        sys.path.insert(0, str(tmp_path))
        return importlib.import_module(PACKAGE)

    yield generate
    sys.path[:] = [p for p in sys.path if p != str(tmp_path)]
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
        del sys.modules[name]


def _module(name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.{name}")


def test_the_readme_walk_through_a_generated_client(
    make_deployment: Callable[..., Deployment], generated: Callable[[str], ModuleType]
) -> None:
    deployment = make_deployment()
    deployment.demo(people=20)
    portal_key = deployment.api_key("consent:read", "consent:write", name="portal")
    requests_key = deployment.api_key(
        "requests:read", "requests:write", "requests:write:verified", name="desk"
    )
    server = deployment.serve(workers=1)
    client_module = generated(server.url)

    portal = client_module.AuthenticatedClient(
        base_url=server.url, token=portal_key, raise_on_unexpected_status=True
    )
    desk = client_module.AuthenticatedClient(
        base_url=server.url, token=requests_key, raise_on_unexpected_status=True
    )
    get_consent = _module("api.consent.get_consent")
    put_consent = _module("api.consent.put_consent")
    processing = _module("api.consent.subject_processing")
    models = _module("models")

    # curl … /api/v1/consents/kari.nordmann@example.no/surveys
    read = get_consent.sync_detailed(KARI, "surveys", client=portal)
    assert read.status_code == 200
    assert read.parsed.subject == KARI and read.parsed.status.value == "given"
    etag = read.headers["ETag"]

    # curl -X PUT … -d '{"status": "withdrawn"}' (with the ETag read, as docs/api.md advises)
    change = models.ConsentChange(status=models.ConsentChangeStatus.WITHDRAWN)
    written = put_consent.sync_detailed(KARI, "surveys", client=portal, body=change, if_match=etag)
    assert written.status_code == 200, written.content
    assert written.parsed.status.value == "withdrawn" and written.parsed.changed is True
    receipt = written.parsed.receipt.to_dict()
    assert receipt["consentReceiptID"]

    # the same stale tag again: 412, parsed as the error envelope
    stale = put_consent.sync_detailed(KARI, "surveys", client=portal, body=change, if_match=etag)
    assert stale.status_code == 412 and stale.parsed.error.code == "precondition_failed"

    # what a portal asks on every page view
    status = processing.sync_detailed(KARI, client=portal, activity="surveys")
    assert status.status_code == 200 and status.parsed.status.value == "consent_withdrawn"

    # a misspelt purpose is its own error
    unknown = get_consent.sync_detailed(KARI, "survey", client=portal)
    assert unknown.status_code == 404 and unknown.parsed.error.code == "unknown_purpose"

    # curl … -d '{"type": "access", "subject": {"email": …}, "verified_by": "ID-porten"}' …/api/v1/requests
    post_requests = _module("api.requests.post_requests")
    body = models.RequestIn(
        type_=models.RequestInType.ACCESS,
        subject=models.SubjectIn(email=KARI),
        verified_by=models.RequestInVerifiedByType0.ID_PORTEN,
    )
    key = str(uuid.uuid4())
    created = post_requests.sync_detailed(client=desk, body=body, idempotency_key=key)
    assert created.status_code == 201, created.content
    reference = created.parsed.reference
    assert reference.startswith("DSR-") and created.headers["Location"].endswith(f"/requests/{reference}")
    again = post_requests.sync_detailed(client=desk, body=body, idempotency_key=key)
    assert again.parsed.reference == reference and again.headers["Idempotent-Replayed"] == "true"

    one = _module("api.requests.get_request").sync_detailed(reference, client=desk)
    assert one.status_code == 200 and one.parsed.type_.value == "access"
    queue = _module("api.requests.get_requests").sync_detailed(client=desk, per_page=1)
    assert queue.status_code == 200 and len(queue.parsed) == 1
    assert int(queue.headers["X-Total-Count"]) >= 1 and 'rel="last"' in queue.headers["Link"]
