"""The typed, read-only view of the registry that other packages read instead of the stored record."""

from __future__ import annotations

import dataclasses

import pytest
from sqlmodel import Session
from tests_support import minimal_activity

from privacy_service.audit import Actor
from privacy_service.ropa import service as ropa
from privacy_service.ropa.schemas import activity_schema

ACTOR = Actor("cli", "tests")


def test_the_view_of_a_consent_based_activity_reads_as_its_record(db: Session) -> None:
    surveys = ropa.activity_view(db, slug="surveys")
    assert (surveys.slug, surveys.service, surveys.status) == ("surveys", "helsedata", "active")
    assert surveys.legal_basis == "6(1)(a)" and surveys.consent_purpose == "surveys"
    assert surveys.on_withdrawal == "erase" and surveys.art9_condition is None
    assert surveys.name["en"] == "User survey about the application process"
    assert surveys.data_categories == ("name", "email", "answers")
    assert surveys.joint_controllers == ("fhi", "kreftregisteret") and surveys.recipients == ()
    assert surveys.purposes == tuple(ropa.get_activity(db, slug="surveys").data["purposes"])
    assert surveys.retention.rules == (
        ropa.RetentionRule(
            system="helsedata-survey",
            table="survey_responses",
            period="P1Y",
            action="delete",
            anchor="submitted_at",
            schedule="20 2 * * *",
        ),
    )
    assert surveys.right("consent_withdrawal").applies and not surveys.right("objection").applies
    assert surveys.record == ropa.get_activity(db, slug="surveys").data
    assert surveys.version == ropa.get_activity(db, slug="surveys").version


def test_the_view_names_processors_and_the_archive_decision(db: Session) -> None:
    applications = ropa.activity_view(db, slug="applications")
    assert applications.preserved and applications.disposal_decision == "Bevares"
    assert applications.processors and all(isinstance(p, ropa.Processor) for p in applications.processors)
    assert applications.right("portability").article == "Art. 20"
    assert applications.recipients == tuple(ropa.get_activity(db, slug="applications").data["recipients"])
    assert not ropa.activity_view(db, slug="surveys").preserved


def test_the_view_cannot_be_changed(db: Session) -> None:
    surveys = ropa.activity_view(db, slug="surveys")
    with pytest.raises(dataclasses.FrozenInstanceError):
        surveys.legal_basis = "6(1)(e)"  # type: ignore[misc]


def test_an_unknown_slug_has_no_view(db: Session) -> None:
    with pytest.raises(ropa.ActivityNotFound):
        ropa.activity_view(db, slug="no-such-activity")


def test_active_activities_leave_out_drafts_and_retired_ones(db: Session) -> None:
    draft = activity_schema.load(minimal_activity(slug="a-draft", status="draft"))
    ropa.create_activity(db, data=draft, actor=ACTOR)
    ropa.retire_activity(db, slug="support", actor=ACTOR, rules="propose")  # it has rules: they stop
    active = [a.slug for a in ropa.active_activities(db)]
    assert "accounts" in active and "a-draft" not in active and "support" not in active
    unretired = [a.slug for a in ropa.activities_for(db, include_retired=False)]
    assert "a-draft" in unretired and "support" not in unretired
    assert "support" in [a.slug for a in ropa.activities_for(db)]
    assert active == sorted(active, key=lambda s: (ropa.activity_view(db, slug=s).service, s))


def test_activities_for_narrows_by_legal_basis_service_and_slug(db: Session) -> None:
    consent = ropa.activities_for(db, legal_basis="6(1)(a)")
    assert consent and all(a.legal_basis == "6(1)(a)" for a in consent)
    helsedata = {a.slug for a in ropa.activities_for(db, service="helsedata")}
    assert {"accounts", "applications", "support", "surveys"} <= helsedata
    chosen = ropa.activities_for(db, slugs=["surveys", "accounts", "no-such-activity"])
    assert [a.slug for a in chosen] == ["accounts", "surveys"]
