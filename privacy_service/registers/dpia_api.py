"""/api/v1/dpias: the DPIA register (GDPR Art. 35/36)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from privacy_service.db import get_session
from privacy_service.http import paged
from privacy_service.registers import dpias
from privacy_service.registers.dpia_schemas import DpiaAssessmentInSchema, DpiaAssessmentSchema
from privacy_service.security.access import current_actor, require

blp = Blueprint("dpias", __name__, description="The DPIA register: screening, assessment, prior consultation")


@blp.route("/dpias")
class Dpias(MethodView):
    @blp.response(200, DpiaAssessmentSchema(many=True))
    @require("registry:read")
    @paged
    def get(self) -> list[dpias.DpiaView]:
        """Every activity with its DPIA status; those nobody assessed read as not_assessed."""
        return dpias.list_dpias(get_session())

    @blp.arguments(DpiaAssessmentInSchema)
    @blp.response(200, DpiaAssessmentSchema)
    @require("registry:write")
    def post(self, data: dict[str, Any]) -> dpias.DpiaView:
        """Create or replace the assessment of an activity; the status's rules are checked first."""
        return dpias.save_dpia(get_session(), data=data, actor=current_actor())


@blp.route("/dpias/<activity>")
@blp.response(200, DpiaAssessmentSchema)
@require("registry:read")
def get_dpia(activity: str) -> dpias.DpiaView:
    """One activity's DPIA status and assessment."""
    return dpias.get_dpia(get_session(), activity=activity)
