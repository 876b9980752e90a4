"""Officer pages: the retention dashboard, run reports (HTML and PDF), holds."""

from __future__ import annotations

import io
import re

from language import foreign_lines
from pdf_words import broken_words, pdf_lines
from pypdf import PdfReader
from tests_support import bearer, csrf_token


def test_the_dashboard_shows_rules_outlook_and_holds(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    login("auditor")
    html = client.get("/officer/retention/?lang=en").get_data(as_text=True)
    for text in (
        "helsedata-support.support_enquiries",
        "Deposit with the archive after 25 years",
        "Support and technical support",  # the activity's name, not its slug
        "Delete after 3 months",
        "every night at 02.15",
        "on day 1 of every month at 03.00",
        "Archive law</td><td>A whole activity: Applications for access to health data",
        "Due in 30 days",
        "Arkivlova § 6",
    ):
        assert text in html, text
    assert "Run now" not in html  # an auditor may only dry-run


def test_the_dashboard_says_its_codes_in_words_in_bokmaal(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    login("officer")
    html = client.get("/officer/retention/?lang=nb").get_data(as_text=True)
    for text in ("Avlever til arkivet etter 25 år", "Slett etter 3 måneder", "hver natt kl. 02.15",
                 "den 1. hver måned kl. 03.00", "Arkivlova</td><td>En hel behandlingsaktivitet",
                 "Brukerstøtte og teknisk støtte"):  # fmt: skip
        assert text in html, text
    for code in (
        "P25Y",
        "P3M",
        "15 2 * * *",
        ">deposit",
        ">delete",
        "archive_law",
        ">activity",
        "Delete after",
    ):
        assert code not in html, code
    assert '<button type="submit" name="dry_run" value="0" class="danger">' in html  # not like a harmless one


def test_a_real_run_from_the_dashboard_says_what_it_deletes_and_waits_for_the_yes(  # type: ignore[no-untyped-def]
    client, login, demo
) -> None:
    login("officer")
    token = csrf_token(client, "/officer/retention/")
    asked = {}
    for lang in ("nb", "en"):
        page = client.post(f"/officer/retention/runs?lang={lang}", data={"csrf_token": token, "dry_run": "0"})
        assert page.status_code == 200
        asked[lang] = page.get_data(as_text=True)
    due = re.search(r"Sletter (\d+) rader i (\d+) tabeller\.", asked["nb"])
    assert due and int(due.group(1)) > 0 and int(due.group(2)) > 1, asked["nb"]
    assert "Dette kan ikke angres." in asked["nb"] and "This cannot be undone." in asked["en"]
    assert f"Deletes {due.group(1)} rows in {due.group(2)} tables." in asked["en"]
    assert "Kjør og slett nå" in asked["nb"] and "Avbryt: ikke gjør noe" in asked["nb"]
    assert "Deletes" not in asked["nb"]
    assert "No runs yet." in client.get("/officer/retention/?lang=en").get_data(as_text=True)  # nothing ran
    # the confirmation page posts the same form again with its own token and confirmed=1
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', asked["en"]))
    assert form["dry_run"] == "0" and form["confirmed"] == "1"
    ran = client.post("/officer/retention/runs", data=form)
    assert ran.status_code == 302 and "/officer/retention/runs/" in ran.headers["Location"]
    report = client.get(ran.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert "dry run" not in report and "<th>Done</th>" in report


def test_a_dry_run_from_the_dashboard_and_its_pdf_report(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    login("auditor")
    token = csrf_token(client, "/officer/retention/")
    response = client.post("/officer/retention/runs", data={"csrf_token": token, "dry_run": "1"})
    assert response.status_code == 302
    report = client.get(response.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert "dry run" in report and "Support and technical support" in report and "Would be done" in report
    assert "support:helsedata-support.support_enquiries:delete" not in report  # a rule's name, not its key
    assert (
        client.post("/officer/retention/runs", data={"csrf_token": token, "dry_run": "0"}).status_code == 403
    )
    run_id = re.search(r"/runs/(\d+)", response.headers["Location"]).group(1)
    pdf = client.get(f"/officer/retention/runs/{run_id}.pdf?lang=nb")
    assert pdf.mimetype == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert f"Rapport fra lagringstidskjøring {run_id}" in text and "Prøvekjøring" in text
    assert "hash-kjeden er intakt".lower() in text.lower()


def test_an_officer_sets_and_releases_a_hold(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    login("officer")
    token = csrf_token(client, "/officer/retention/holds")
    bad = client.post(
        "/officer/retention/holds?lang=en",
        data={
            "csrf_token": token,
            "kind": "legal",
            "scope": "activity",
            "subject_kind": "",
            "basis": "Lawsuit 26/1",
        },
    )
    assert bad.status_code == 422 and "Required for a hold on scope activity" in bad.get_data(as_text=True)
    ok = client.post(
        "/officer/retention/holds?lang=en",
        data={
            "csrf_token": token,
            "kind": "legal",
            "scope": "activity",
            "activity": "support",
            "subject_kind": "",  # what a browser sends for the empty first option
            "basis": "Lawsuit 26/1",
        },
    )
    assert ok.status_code == 302
    html = client.get("/officer/retention/holds?lang=en").get_data(as_text=True)
    hold_id = re.search(r"<td>(\d+)</td><td>Legal claim or case</td>", html).group(1)
    asked = client.post(
        f"/officer/retention/holds/{hold_id}/release?lang=en",
        data={"csrf_token": csrf_token(client, "/officer/retention/holds"), "note": "Settled"},
    ).get_data(as_text=True)
    # before anything happens: what the release lets the next run delete (the hold keeps the due rows now)
    due = re.search(r"(\d+) rows in 1 table are due and are deleted at the next run\.", asked)
    assert due and int(due.group(1)) > 0, asked
    assert "Release hold" in asked and "Legal claim or case" in asked
    assert "<td>active" in client.get("/officer/retention/holds?lang=en").get_data(as_text=True)
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', asked))
    assert form["note"] == "Settled" and form["confirmed"] == "1"
    released = client.post(
        f"/officer/retention/holds/{hold_id}/release?lang=en", data=form, follow_redirects=True
    )
    assert f"Rows that fall due at the next run: {due.group(1)}." in released.get_data(as_text=True)


def test_an_auditor_cannot_set_holds(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    login("auditor")
    token = csrf_token(client, "/officer/retention/holds")
    response = client.post(
        "/officer/retention/holds",
        data={
            "csrf_token": token,
            "kind": "legal",
            "scope": "activity",
            "activity": "support",
            "basis": "x y z",
        },
    )
    assert response.status_code == 403


def test_the_hold_form_keeps_the_internal_note_apart_from_the_text_for_the_subject(  # type: ignore[no-untyped-def]
    client, login, make_key, demo
) -> None:
    login("officer")
    form = client.get("/officer/retention/holds?lang=en").get_data(as_text=True)
    assert "Internal note (never shown to the subject)" in form
    assert "Text for the subject's letter (bokmål)" in form
    assert "Text for the subject's letter (English)" in form
    bokmaal = client.get("/officer/retention/holds?lang=nb").get_data(as_text=True)
    assert "Internt notat (vises aldri for den registrerte)" in bokmaal and "Internal note" not in bokmaal
    ok = client.post(
        "/officer/retention/holds?lang=en",
        data={
            "csrf_token": csrf_token(client, "/officer/retention/holds"),
            "kind": "legal",
            "scope": "activity",
            "activity": "support",
            "subject_kind": "",
            "basis": "Tvist om brukerstøtte, sak 26/1234 — bevis sikres",
            "public_text_nb": "Henvendelsene tas vare på fordi de trengs i en rettssak.",
            "public_text_en": "",  # left empty: the standard text for a legal hold
        },
    )
    assert ok.status_code == 302, ok.get_data(as_text=True)
    reader = bearer(make_key("retention:read"))
    [hold] = client.get("/api/v1/holds?active=true&activity=support", headers=reader).get_json()
    assert hold["basis"] == "Tvist om brukerstøtte, sak 26/1234 — bevis sikres"
    assert hold["public_text"] == {
        "nb": "Henvendelsene tas vare på fordi de trengs i en rettssak.",
        "en": "They are needed for a legal claim or case (Art. 17(3)(e)).",
    }
    listed = client.get("/officer/retention/holds?lang=en").get_data(as_text=True)
    assert 'a legal claim or case (Art. 17(3)(e)). <span class="muted">(standard text)' in listed


def test_the_run_report_pdf_names_rules_in_words_and_breaks_no_word(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    from privacy_service.retention.pdf import LABELS

    login("officer")
    token = csrf_token(client, "/officer/retention/")
    ran = client.post("/officer/retention/runs", data={"csrf_token": token, "dry_run": "1"})
    for lang, name, action in (
        ("nb", "Brukerstøtte og teknisk støtte", "ville slettet"),
        ("en", "Support and technical support", "would delete"),
    ):
        lines = pdf_lines(client.get(ran.headers["Location"] + f".pdf?lang={lang}").data)
        text = " ".join(lines)
        assert name in text and "(helsedata-support.support_enquiries)" in lines
        assert action in text and ("3 måneder" if lang == "nb" else "3 months") in text
        assert "P3M" not in text and "support:helsedata" not in text and "officer" not in lines
        words = [*LABELS[lang]["cols"], LABELS[lang]["dry_done"], name, *LABELS[lang]["dry_actions"].values()]
        words += ["(helsedata-support.support_enquiries)", "(helsedata-survey.survey_responses)"]
        assert broken_words(lines, words) == [], lines
        where = [line for line in lines if re.fullmatch(r"\([\w-]+\.\w+\)", line)]  # the tables acted on
        assert foreign_lines(lines, lang, where) == []
