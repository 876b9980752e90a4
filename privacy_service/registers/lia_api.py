"""/api/v1/lias: legitimate-interest assessments (GDPR Art. 6(1)(f))."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from privacy_service.db import get_session
from privacy_service.http import paged
from privacy_service.registers import lias
from privacy_service.registers.lia_schemas import LiaAssessmentInSchema, LiaAssessmentSchema
from privacy_service.security.access import current_actor, require

blp = Blueprint(
    "lias", __name__, description="Legitimate-interest assessments: interest, necessity, balancing"
)


@blp.route("/lias")
class Lias(MethodView):
    @blp.response(200, LiaAssessmentSchema(many=True))
    @require("registry:read")
    @paged
    def get(self) -> list[lias.LiaView]:
        """Every activity relying on Art. 6(1)(f); those nobody assessed read as not_assessed."""
        return lias.list_lias(get_session())

    @blp.arguments(LiaAssessmentInSchema)
    @blp.response(200, LiaAssessmentSchema)
    @require("registry:write")
    def post(self, data: dict[str, Any]) -> lias.LiaView:
        """Create or replace an activity's assessment; an activity not relying on Art. 6(1)(f) is refused."""
        return lias.save_lia(get_session(), data=data, actor=current_actor())


@blp.route("/lias/<activity>")
@blp.response(200, LiaAssessmentSchema)
@require("registry:read")
def get_lia(activity: str) -> lias.LiaView:
    """One activity's legitimate-interest assessment."""
    return lias.get_lia(get_session(), activity=activity)
