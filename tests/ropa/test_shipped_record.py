"""The shipped record, corrected (issue 17): what a DPO signing it checks, read back from the registry."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
import yaml
from flask import Flask
from pypdf import PdfReader
from tests_support import bearer

from privacy_service.policies import PolicyError, read_policies

POLICIES = Path(__file__).resolve().parents[2] / "policies"


def test_the_chatbot_is_one_record_shown_in_both_notices(app: Flask, client, make_key) -> None:  # type: ignore[no-untyped-def]
    for service in ("helsenorge", "helsedirektoratet"):
        html = client.get(f"/privacy/{service}?lang=en").get_data(as_text=True)
        assert html.count("<h3>Chatbot on helsenorge.no</h3>") == 1, service
        assert "The chatbot on Helsenorge" not in html  # the retired duplicate
    # one consent purpose: a withdrawal ends the processing the two notices describe
    docs = read_policies(POLICIES)
    active = [a for a in docs["activities"] if a["status"] == "active"]
    assert [a["slug"] for a in active if a.get("consent_purpose") and "chatbot" in a["slug"]] == ["chatbot"]
    # the Helsenorge notice changes when the record it borrows changes
    key = bearer(make_key("registry:read", "registry:write"))
    before = client.get("/privacy/helsenorge.pdf?lang=en").headers["ETag"]
    record = client.get("/api/v1/activities/chatbot", headers=key)
    body = {k: v for k, v in record.get_json().items() if k not in {"version", "created_at", "updated_at",
                                                                  "updated_by", "rights"}}  # fmt: skip
    body["name"] = {"nb": "Chatboten", "en": "The chatbot"}
    put = client.put("/api/v1/activities/chatbot", json=body, headers={**key, "If-Match": "*"})
    assert put.status_code == 200, put.get_json()
    assert client.get("/privacy/helsenorge.pdf?lang=en").headers["ETag"] != before


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "policies"
    shutil.copytree(POLICIES, root)
    return root


@pytest.mark.parametrize(
    ("slug", "message"), [("no-such-activity", "unknown activity"), ("helsenorge-cookies", "already this")]
)
def test_a_notice_cannot_list_what_is_missing_or_its_own(tmp_path: Path, slug: str, message: str) -> None:
    root = _copy(tmp_path)
    path = root / "activities" / "helsenorge.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["notice"]["also_lists"] = [slug]
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    with pytest.raises(PolicyError, match=message):
        read_policies(root)


def _pdf_text(data: bytes) -> str:
    return " ".join(" ".join((p.extract_text() or "") for p in PdfReader(io.BytesIO(data)).pages).split())


def test_the_record_is_one_record_per_controller(client, make_key) -> None:  # type: ignore[no-untyped-def]
    key = bearer(make_key("registry:read"))
    whole = _pdf_text(client.get("/api/v1/ropa?format=pdf&lang=nb&include_retired=false", headers=key).data)
    own = whole.index("Behandlinger der Helsedirektoratet er behandlingsansvarlig")
    nhn = whole.index("Behandlinger der Norsk helsenett SF er behandlingsansvarlig")
    assert own < whole.index("Chatbot på helsenorge.no") < nhn < whole.index("Kontaktskjemaet på Helsenorge")
    assert "det er Norsk helsenett SF som bestemmer formålet og midlene" in whole
    # one controller's record holds its own activities (and those it controls jointly), nothing else
    response = client.get("/api/v1/ropa?format=json&controller=nhn", headers=key)
    assert response.status_code == 200 and "ropa-nhn-" in response.headers["Content-Disposition"]
    activities = response.get_json()["activities"]
    assert activities and all("nhn" in (a["controller"], *a["joint_controllers"]) for a in activities)
    assert "helsenorge-contact-form" in {a["slug"] for a in activities}
    assert "chatbot" not in {a["slug"] for a in activities}  # the Directorate's, though Helsenorge shows it
    unknown = client.get("/api/v1/ropa?format=json&controller=nobody", headers=key)
    assert unknown.status_code == 422 and "controller" in unknown.get_json()["error"]["fields"]


def test_every_processor_the_texts_name_is_in_the_art_28_list(app: Flask, tmp_path: Path) -> None:
    result = app.test_cli_runner().invoke(args=["policies", "check", str(POLICIES)])
    assert result.exit_code == 0, result.output
    assert "Processor not in the Art. 28 list" not in result.output
    # the check can fail: a record that names its processor only in words is reported
    root = _copy(tmp_path)
    path = root / "activities" / "helsedirektoratet.yaml"
    doc = yaml.safe_load(path.read_text())
    newsletter = next(a for a in doc["activities"] if a["slug"] == "newsletter")
    newsletter["processors"] = []
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    result = app.test_cli_runner().invoke(args=["policies", "check", str(root)])
    assert "Processor not in the Art. 28 list: newsletter names a data processor" in result.output
