"""The officer's decision per activity and the search by hand (issue 15, items 1 and 2).

Approval is no longer all-or-nothing: each activity is upheld or refused with a ground from a closed list and
reasons, and an activity outside the data map is "not_checked" until a search by hand is recorded; the letter
never says "done" for what nobody searched.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from pypdf import PdfReader
from tests_support import bearer, complete, csrf_token, settle

from privacy_service import notify

KARI = {"email": "kari.nordmann@example.no", "name": "Kari Nordmann", "national_id": "15838512671"}


@pytest.fixture
def officer(make_key) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return bearer(make_key("requests:read", "requests:write", "requests:write:verified", "requests:manage",
                           "consent:read"))  # fmt: skip


def _planned(app, client, officer, **body: Any) -> tuple[str, dict[str, dict[str, Any]]]:  # type: ignore[no-untyped-def]
    created = client.post(
        "/api/v1/requests", headers=officer, json={"subject": KARI, "verified_by": "ID-porten", **body}
    )
    assert created.status_code == 201, created.get_json()
    reference = created.get_json()["reference"]
    notify.deliver_due(app.extensions["engine"], notify.transport_for(app.config))  # the plan
    planned = client.get(f"/api/v1/requests/{reference}", headers=officer).get_json()
    assert planned["status"] == "awaiting_decision", planned
    return reference, {o["activity"]: o for o in planned["outcomes"]}


def _letter(client, officer, reference: str) -> str:  # type: ignore[no-untyped-def]
    pdf = client.get(f"/api/v1/requests/{reference}/package?part=letter", headers=officer)
    assert pdf.status_code == 200
    text = " ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf.data)).pages)
    return " ".join(text.split())  # table cells wrap their lines


def test_karis_access_waits_for_searches_by_hand_and_her_letter_never_says_done_for_them(
    app, client, officer, demo
) -> None:  # type: ignore[no-untyped-def]
    reference, plan = _planned(app, client, officer, type="access")  # every activity
    by_hand = sorted(a for a, o in plan.items() if o["records"] is None)
    assert len(by_hand) > 20  # most of the registry is outside the data map
    assert {plan[a]["outcome"] for a in by_hand} == {"not_checked"}
    assert all(plan[a]["manual"] == {"result": None, "records": None, "controller": None,
                                     "recorded_by": None, "recorded_at": None} for a in by_hand)  # fmt: skip
    assert plan["accounts"]["decision"] == "uphold" and plan["accounts"]["manual"] is None

    refused = client.post(f"/api/v1/requests/{reference}/approve", headers=officer, json={})
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "undecided_outcomes" and sorted(error["fields"]["not_checked"]) == by_hand

    camera, calls, chatbot = "entrance-camera", "blaresept", "chatbot"
    assert {camera, calls, chatbot} <= set(by_hand)
    recorded = client.post(f"/api/v1/requests/{reference}/manual-results", headers=officer, json={"results": [
        {"activity": camera, "result": "none_found"},
        {"activity": calls, "result": "found_handled", "records": 2},
        {"activity": chatbot, "result": "sent_to_controller", "controller": "Norsk helsenett SF"},
    ]})  # fmt: skip
    assert recorded.status_code == 200, recorded.get_json()
    now = {o["activity"]: o for o in recorded.get_json()["outcomes"]}
    assert now[camera]["outcome"] == "no_data" and now[chatbot]["outcome"] == "forwarded"
    assert now[calls]["manual"]["records"] == 2 and now[calls]["manual"]["recorded_by"].startswith(
        "api_client:"
    )
    assert now[calls]["manual"]["recorded_at"]
    still = client.post(f"/api/v1/requests/{reference}/approve", headers=officer, json={})
    assert still.status_code == 409 and camera not in still.get_json()["error"]["fields"]["not_checked"]

    settle(client, reference, officer)  # the rest searched by hand: none found
    approved = client.post(f"/api/v1/requests/{reference}/approve", headers=officer, json={})
    assert approved.status_code == 200, approved.get_json()
    done = {o["activity"]: o for o in approved.get_json()["outcomes"]}
    assert done[calls]["outcome"] == "done" and done[camera]["outcome"] == "no_data"
    assert [a for a in by_hand if done[a]["outcome"] == "done"] == [calls]  # only what was found and handled
    assert complete(client, reference, officer).status_code == 200

    letter = _letter(client, officer, reference)
    # what nobody found is one sentence naming the activities; only what was found or sent on has a section
    empty = sum(o["outcome"] == "no_data" for o in done.values())
    assert f"I {empty} andre behandlinger fant vi ingen opplysninger om deg:" in letter
    assert "Kameraovervåking av inngangspartiene" in letter  # the camera: searched, none found
    assert "Søkt manuelt: fant 2 registrering(er), og de er behandlet." in letter
    assert "Sendt videre til Norsk helsenett SF, som er behandlingsansvarlig." in letter
    assert "Handled by hand" not in letter and "Utført" not in letter
    found = sum(o["outcome"] in ("done", "forwarded") for o in done.values())
    assert letter.count("Resultat") == found and found < 10
    kinds = [e["kind"] for e in approved.get_json()["timeline"]]
    assert kinds.count("checked_by_hand") == 2  # each recording is on the timeline, with its audit event


def test_an_objection_to_public_task_processing_starts_undecided_and_can_be_refused_with_reasons(
    app, client, officer, demo
) -> None:  # type: ignore[no-untyped-def]
    grounds = {"text": "I do not want the portal to keep my account."}
    reference, plan = _planned(app, client, officer, type="objection", activities=["accounts", "surveys"],
                               language="en", details=grounds)  # fmt: skip
    accounts, surveys = plan["accounts"], plan["surveys"]
    assert accounts["outcome"] == "pending" and accounts["decision"] is None  # 6(1)(e): the officer weighs
    assert accounts["suggestion"]["ground"] == "art_21_1" and accounts["suggestion"]["reasons"]["nb"]
    assert surveys["outcome"] == "not_applicable"  # consent: the rules decide, no officer decision

    refused = client.post(f"/api/v1/requests/{reference}/approve", headers=officer, json={})
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "undecided_outcomes"
    assert refused.get_json()["error"]["fields"]["undecided"] == ["accounts"]
    needless = client.post(f"/api/v1/requests/{reference}/decisions", headers=officer,
                           json={"decisions": [{"activity": "surveys", "decision": "uphold"}]})  # fmt: skip
    assert needless.status_code == 422 and "surveys" in needless.get_json()["error"]["fields"]["decisions"]

    reasons = "The account is needed to process the application service's statutory cases."
    refusal = {"activity": "accounts", "decision": "refuse", "ground": "art_21_1", "reasons": reasons}
    decided = client.post(f"/api/v1/requests/{reference}/decisions", headers=officer,
                          json={"decisions": [refusal]})  # fmt: skip
    assert decided.status_code == 200, decided.get_json()
    line = next(o for o in decided.get_json()["outcomes"] if o["activity"] == "accounts")
    assert (line["decision"], line["ground"], line["reasons"]) == ("refuse", "art_21_1", reasons)
    assert line["decided_by"].startswith("api_client:") and line["decided_at"]

    approved = client.post(f"/api/v1/requests/{reference}/approve", headers=officer, json={})
    assert approved.status_code == 200, approved.get_json()
    line = next(o for o in approved.get_json()["outcomes"] if o["activity"] == "accounts")
    assert line["outcome"] == "refused" and line["legal_ground"] == "Art. 21(1)"
    status = client.get(f"/api/v1/subjects/{KARI['email']}/processing?activity=accounts", headers=officer)
    assert status.get_json()["status"] == "allowed"  # refused: the processing goes on
    assert complete(client, reference, officer).status_code == 200
    letter = _letter(client, officer, reference)
    assert "compelling legitimate grounds that override your interests (Art. 21(1))" in letter
    assert "statutory cases" in letter and "Done" not in letter


@pytest.mark.parametrize(
    ("decision", "problem"),
    [
        ({"decision": "refuse", "ground": "art_99", "reasons": "Because."}, "ground"),
        ({"decision": "refuse", "reasons": "No ground named."}, "decisions"),
        ({"decision": "refuse", "ground": "art_15_4"}, "decisions"),
        ({"decision": "refuse", "ground": "pdl_16_d", "reasons": "   "}, "decisions"),
        ({"decision": "maybe"}, "decision"),
    ],
    ids=[
        "unknown-ground",
        "Art-12-no-ground",
        "Art-15(4)-no-reasons",
        "pdl-16-blank-reasons",
        "not-a-decision",
    ],
)
def test_a_refusal_needs_a_ground_from_the_closed_list_and_reasons(
    app, client, officer, demo, decision, problem
) -> None:  # type: ignore[no-untyped-def]
    reference, __ = _planned(app, client, officer, type="access", activities=["accounts"])
    answer = client.post(f"/api/v1/requests/{reference}/decisions", headers=officer,
                         json={"decisions": [{"activity": "accounts", **decision}]})  # fmt: skip
    assert answer.status_code == 422, answer.get_json()
    error = answer.get_json()["error"]
    assert error["code"] == "validation_error" and problem in str(error["fields"])
    after = client.get(f"/api/v1/requests/{reference}", headers=officer).get_json()
    assert after["outcomes"][0]["decision"] == "uphold"  # nothing changed
    assert "decided" not in [e["kind"] for e in after["timeline"]]


def test_a_search_by_hand_says_what_was_found_and_only_for_activities_outside_the_map(
    app, client, officer, demo
) -> None:  # type: ignore[no-untyped-def]
    reference, __ = _planned(app, client, officer, type="access", activities=["accounts", "entrance-camera"])
    url = f"/api/v1/requests/{reference}/manual-results"
    for item, field in (
        ({"activity": "entrance-camera", "result": "found_handled"}, "entrance-camera"),  # how many?
        ({"activity": "entrance-camera", "result": "sent_to_controller"}, "entrance-camera"),  # to whom?
        ({"activity": "accounts", "result": "none_found"}, "accounts"),  # the service searches it
        ({"activity": "nowhere", "result": "none_found"}, "activities"),
        ({"activity": "entrance-camera", "result": "looked"}, "result"),
    ):
        answer = client.post(url, headers=officer, json={"results": [item]})
        assert answer.status_code == 422 and field in str(answer.get_json()["error"]["fields"]), item


def test_the_officer_page_decides_and_records_the_search_by_hand(app, client, officer, demo, login) -> None:  # type: ignore[no-untyped-def]
    reference, __ = _planned(
        app, client, officer, type="objection", activities=["accounts", "entrance-camera"]
    )
    login("officer")
    page = f"/officer/requests/{reference}"
    html = client.get(page + "?lang=nb").get_data(as_text=True)
    assert "Saksbehandleren avgjør" in html and "Ikke kontrollert ennå" in html
    assert "tvingende berettigede grunner som går foran dine interesser (art. 21 nr. 1)" in html
    token = csrf_token(client, page)
    client.post(f"{page}/decide", data={"csrf_token": token, "activity": "accounts", "decision": "refuse",
                                        "ground": "art_21_1", "reasons": ""})  # fmt: skip
    body = client.get(f"/api/v1/requests/{reference}", headers=officer).get_json()
    assert next(o for o in body["outcomes"] if o["activity"] == "accounts")["decision"] is None  # no reasons
    client.post(f"{page}/decide", data={"csrf_token": token, "activity": "accounts", "decision": "refuse",
                                        "ground": "art_21_1", "reasons": "Statutory task."})  # fmt: skip
    client.post(
        f"{page}/manual", data={"csrf_token": token, "activity": "entrance-camera", "result": "none_found"}
    )
    client.post(
        f"{page}/decide", data={"csrf_token": token, "activity": "entrance-camera", "decision": "uphold"}
    )
    body = client.get(f"/api/v1/requests/{reference}", headers=officer).get_json()
    lines = {o["activity"]: o for o in body["outcomes"]}
    assert lines["accounts"]["decision"] == "refuse" and lines["accounts"]["reasons"] == "Statutory task."
    assert (
        lines["entrance-camera"]["manual"]["result"] == "none_found"
        and lines["entrance-camera"]["outcome"] == "no_data"
    )
    asked = client.post(f"{page}/approve?lang=nb", data={"csrf_token": token}).get_data(as_text=True)
    assert "Godkjenne planen for" in asked and "1 behandlingsaktivitet avslås" in asked
    assert (
        client.get(f"/api/v1/requests/{reference}", headers=officer).get_json()["status"]
        == "awaiting_decision"
    )
    client.post(f"{page}/approve", data={"csrf_token": token, "confirmed": "1"})
    assert client.get(f"/api/v1/requests/{reference}", headers=officer).get_json()["status"] == "in_progress"


def test_approving_an_erasure_rejecting_and_sending_ask_first_and_say_what_they_do(  # type: ignore[no-untyped-def]
    app, client, officer, demo, login
) -> None:
    reference, __ = _planned(app, client, officer, type="erasure", activities=["support", "surveys"])
    outcomes = settle(client, reference, officer)["outcomes"]  # every activity upheld
    acting = [o for o in outcomes if o["outcome"] in ("pending", "partial")]
    rows = sum(o["records"] - o["held"] for o in acting)
    assert rows > 0, outcomes
    login("officer")
    page = f"/officer/requests/{reference}"
    token = csrf_token(client, page)
    asked = {
        lang: client.post(f"{page}/approve?lang={lang}", data={"csrf_token": token, "note": "ok"}).get_data(
            as_text=True
        )
        for lang in ("nb", "en")
    }
    assert f"Sletter {rows} rader i" in asked["nb"] and "Dette kan ikke angres." in asked["nb"], asked["nb"]
    assert "Mottakerne protokollen nevner, får beskjed (art. 19)." in asked["nb"]
    assert f"Erases {rows} rows in" in asked["en"] and "Erases" not in asked["nb"]
    assert 'class="danger">Godkjenn og gjennomfør</button>' in asked["nb"]
    assert (
        client.get(f"/api/v1/requests/{reference}", headers=officer).get_json()["status"]
        == "awaiting_decision"
    )
    form = dict(re_hidden(asked["en"]))
    assert form == {"csrf_token": form["csrf_token"], "note": "ok", "confirmed": "1"}
    client.post(f"{page}/approve", data=form)
    assert client.get(f"/api/v1/requests/{reference}", headers=officer).get_json()["status"] == "in_progress"
    client.post(f"{page}/draft", data={"csrf_token": token})
    draft = client.get(f"{page}/draft?lang=nb").get_data(as_text=True)
    sha = draft.split('data-draft="', 1)[1].split('"', 1)[0]
    asked_send = client.post(f"{page}/complete?lang=nb", data={"csrf_token": token, "draft": sha})
    sending = asked_send.get_data(as_text=True)
    assert "Sender brevet du leste, til den bekreftede adressen" in sending
    assert "Et sendt svar kan ikke kalles tilbake." in sending and f'href="{page}/draft"' in sending
    assert client.get(f"/api/v1/requests/{reference}", headers=officer).get_json()["status"] == "in_progress"
    client.post(f"{page}/complete", data={"csrf_token": token, "draft": sha, "confirmed": "1"})
    assert client.get(f"/api/v1/requests/{reference}", headers=officer).get_json()["status"] == "completed"

    # rejecting a fresh request says on which ground and that she is told, and closes nothing until the yes
    other, __ = _planned(app, client, officer, type="access", activities=["support"])
    ground = {"csrf_token": token, "ground": "manifestly_unfounded", "reason": "Samme spørsmål tre ganger."}
    asked_reject = client.post(f"/officer/requests/{other}/reject?lang=nb", data=ground).get_data(
        as_text=True
    )
    assert "Avviser hele henvendelsen med grunnlaget: " in asked_reject
    assert "manifestly_unfounded</" not in asked_reject.replace('value="manifestly_unfounded"', "")
    assert (
        client.get(f"/api/v1/requests/{other}", headers=officer).get_json()["status"] == "awaiting_decision"
    )
    client.post(f"/officer/requests/{other}/reject", data={**ground, "confirmed": "1"})
    assert client.get(f"/api/v1/requests/{other}", headers=officer).get_json()["status"] == "rejected"


def re_hidden(html: str) -> list[tuple[str, str]]:
    import re

    return re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', html)
