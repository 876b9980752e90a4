"""/api/v1/transfers: transfers to third countries and their assessments (GDPR Chapter V)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from privacy_service.db import get_session
from privacy_service.http import paged
from privacy_service.registers import transfers
from privacy_service.registers.transfer_schemas import (
    TransferAssessmentInSchema,
    TransferWithAssessmentSchema,
)
from privacy_service.security.access import current_actor, require

blp = Blueprint("transfers", __name__, description="Transfers to third countries: the tool and the TIA")


@blp.route("/transfers")
class Transfers(MethodView):
    @blp.response(200, TransferWithAssessmentSchema(many=True))
    @require("registry:read")
    @paged
    def get(self) -> list[transfers.TransferView]:
        """Every transfer in the record of processing with its assessment, or none."""
        return transfers.list_transfers(get_session())

    @blp.arguments(TransferAssessmentInSchema)
    @blp.response(200, TransferWithAssessmentSchema)
    @require("registry:write")
    def post(self, data: dict[str, Any]) -> transfers.TransferView:
        """Create or replace the assessment of one transfer; Chapter V's rules are checked first."""
        return transfers.save_assessment(get_session(), data=data, actor=current_actor())
