"""Demo data systems in the app's instance folder, and helpers to read them."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from privacy_service.datamap.demo import create_demo_data

ANCHOR = date(2026, 11, 1)
# every rule the shipped policies declare: three on helsedata.no's systems, five on the Directorate's office
ALL_RULES = {
    "support:helsedata-support.support_enquiries:delete",
    "surveys:helsedata-survey.survey_responses:delete",
    "applications:helsedata-portal.applications:deposit",
    "call-log:helsedir-office.call_log:delete",
    "visitor-list:helsedir-office.visitor_list:delete",
    "media-enquiries:helsedir-office.media_enquiries:delete",
    "events:helsedir-office.event_registrations:delete",
    "questionnaires:helsedir-office.questionnaire_answers:delete",
}


@pytest.fixture
def demo(app) -> Path:  # type: ignore[no-untyped-def]
    instance = Path(app.config["PRIVACY_INSTANCE_PATH"])
    create_demo_data(instance_path=instance, seed=5, people=60, anchor=ANCHOR)
    return instance


def query(instance: Path, system_file: str, sql: str, **params: Any) -> list[Any]:
    engine = create_engine(f"sqlite:///{instance / 'demo' / system_file}")
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql), params))
    finally:
        engine.dispose()
