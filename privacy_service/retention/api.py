"""/api/v1/holds and /api/v1/retention: holds, rules and runs."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from privacy_service.db import get_engine, get_session, page_of
from privacy_service.errors import N_
from privacy_service.http import Window, app_instance_path, page_args, paged
from privacy_service.retention import service
from privacy_service.retention.schemas import (
    DepositListArgsSchema,
    DepositReceiptInSchema,
    DepositRejectInSchema,
    DepositSchema,
    HoldInSchema,
    HoldListArgsSchema,
    HoldSchema,
    ReleaseInSchema,
    ReleaseOutSchema,
    RuleChangeListArgsSchema,
    RuleChangeSchema,
    RuleSchema,
    RunInSchema,
    RunSchema,
)
from privacy_service.security.access import AccessDenied, current_actor, current_principal, require

blp = Blueprint("retention", __name__, description="Holds, retention rules and retention runs")


_DERIVED = ("public_text", "public_text_standard", "active")


def hold_view(hold: Any) -> dict[str, Any]:
    """A hold as the API shows it (the subject's identity value stays out)."""
    view = {k: getattr(hold, k) for k in HoldSchema().fields if k not in _DERIVED}
    own = hold.public_text or {}
    return {
        **view,
        "public_text": {lang: service.public_text(hold.kind, own, lang) for lang in ("nb", "en")},
        "public_text_standard": [lang for lang in ("nb", "en") if not own.get(lang)],
        "active": service.is_active(hold),
    }


@blp.route("/holds")
class Holds(MethodView):
    @blp.arguments(HoldListArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, HoldSchema(many=True))
    @require("retention:read")
    @paged
    def get(self, active: bool | None, activity: str | None) -> list[dict[str, Any]]:
        """Holds, newest first; ?active=true for those protecting data now."""
        holds = service.list_holds(get_session(), active_only=bool(active), activity=activity)
        return [hold_view(h) for h in holds if active is not False or not service.is_active(h)]

    @blp.arguments(HoldInSchema)
    @blp.response(201, HoldSchema)
    @require("holds:manage")
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Set a hold: it wins over retention and erasure from now on (or from starts_at)."""
        hold = service.set_hold(get_session(), data={**data, "source": "api"}, actor=current_actor())
        return hold_view(hold)


@blp.route("/holds/<int:hold_id>/release", methods=["POST"])
@blp.arguments(ReleaseInSchema)
@blp.response(200, ReleaseOutSchema)
@require("holds:manage")
def release(data: dict[str, Any], hold_id: int) -> dict[str, Any]:
    """Release a hold. Nothing is deleted now: the answer says how many rows the next run will find due."""
    session = get_session()
    hold = service.release_hold(session, hold_id=hold_id, actor=current_actor(), note=data["note"])
    session.commit()  # the count below reads in sessions of its own: they must see the hold released
    due = service.rows_due_after_release(get_engine(), hold, instance_path=app_instance_path())
    return {"hold": hold_view(hold), "rows_due": due}


@blp.route("/retention/rules")
@blp.response(200, RuleSchema(many=True))
@require("retention:read")
@paged
def rules() -> list[service.Rule]:
    """Every retention rule from the registry, with anything that stops it from running."""
    return service.list_rules(get_session())


def _run_view(run: Any, results: list[Any], pending: list[Any] | None = None) -> dict[str, Any]:
    view = {k: getattr(run, k) for k in RunSchema().fields if k not in ("rules", "pending_deposits")}
    return {**view, "rules": results, "pending_deposits": pending or []}


def _report_view(run_id: int) -> dict[str, Any]:
    report = service.run_report(get_session(), run_id=run_id)
    return _run_view(report.run, report.results, report.pending)


@blp.route("/retention/runs")
class Runs(MethodView):
    @blp.response(200, RunSchema(many=True))
    @require("retention:read")
    @paged
    def get(self) -> Window:
        """The runs, newest first (without their per-rule results)."""
        page, per_page = page_args()
        runs, total = page_of(get_session(), service.runs_query(), page=page, per_page=per_page)
        return Window([_run_view(r, []) for r in runs], total)

    @blp.arguments(RunInSchema, required=False)
    @blp.response(201, RunSchema)
    @require("retention:read")
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Run the rules now: {"dry_run": true} counts and touches nothing; a real run needs retention:run."""
        principal = current_principal()
        if not data["dry_run"] and (principal is None or "retention:run" not in principal.scopes):
            raise AccessDenied(403, N_("A real run needs the scope 'retention:run'; a dry run does not."))
        get_session().close()  # the run manages its own transactions
        run = service.run_retention(
            get_engine(),
            instance_path=app_instance_path(),
            actor=current_actor(),
            dry_run=data["dry_run"],
            only=data["rules"],
            trigger="api",
        )
        return _report_view(run.id or 0)


@blp.route("/retention/runs/<int:run_id>")
@blp.response(200, RunSchema)
@require("retention:read")
def get_run(run_id: int) -> dict[str, Any]:
    """One run with what it did per rule, and the deposits still waiting for the archive's receipt."""
    return _report_view(run_id)


# --- changes to the rules: dry run, then apply or discard (docs/retention.md) -------------------------------


@blp.route("/retention/rule-changes")
@blp.arguments(RuleChangeListArgsSchema, location="query", as_kwargs=True)
@blp.response(200, RuleChangeSchema(many=True))
@require("retention:read")
@paged
def rule_changes(status: str | None, activity: str | None) -> list[Any]:
    """Changes to retention rules, newest first: pending ones wait for a dry run and an apply."""
    return service.list_rule_changes(get_session(), status=status, activity=activity)


@blp.route("/retention/rule-changes/<int:change_id>")
@blp.response(200, RuleChangeSchema)
@require("retention:read")
def rule_change(change_id: int) -> Any:
    """One rule change, with what its dry run found."""
    return service.get_rule_change(get_session(), change_id=change_id)


@blp.route("/retention/rule-changes/<int:change_id>/dry-run", methods=["POST"])
@blp.response(200, RuleChangeSchema)
@require("retention:run")
def dry_run_rule_change(change_id: int) -> Any:
    """Count what the proposed rules would do now (rows acted on, rows held back); touches no data."""
    get_session().close()  # the dry run manages its own transactions
    service.dry_run_rule_change(
        get_engine(), change_id=change_id, actor=current_actor(), instance_path=app_instance_path()
    )
    return service.get_rule_change(get_session(), change_id=change_id)


@blp.route("/retention/rule-changes/<int:change_id>/apply", methods=["POST"])
@blp.response(200, RuleChangeSchema)
@require("retention:run")
def apply_rule_change(change_id: int) -> Any:
    """Put the rule change into force; 409 unless a dry run was made on the activity as it is now."""
    return service.apply_rule_change(get_session(), change_id=change_id, actor=current_actor())


@blp.route("/retention/rule-changes/<int:change_id>/discard", methods=["POST"])
@blp.response(200, RuleChangeSchema)
@require("retention:run")
def discard_rule_change(change_id: int) -> Any:
    """Drop the rule change; the rules in force stay."""
    return service.discard_rule_change(get_session(), change_id=change_id, actor=current_actor())


# --- deposits: an extract waits for the archive's receipt before its rows go (docs/retention.md) ---------


@blp.route("/retention/deposits")
@blp.arguments(DepositListArgsSchema, location="query", as_kwargs=True)
@blp.response(200, DepositSchema(many=True))
@require("retention:run")
@paged
def deposits(status: str | None) -> list[Any]:
    """Deposits, newest first: each extract's table, rows, status and files with their SHA-256."""
    return service.list_deposits(get_session(), status=status)


@blp.route("/retention/deposits/<int:deposit_id>/receipt", methods=["POST"])
@blp.arguments(DepositReceiptInSchema)
@blp.response(200, DepositSchema)
@require("retention:run")
def deposit_receipt(data: dict[str, Any], deposit_id: int) -> Any:
    """Record the archive's receipt; then exactly the deposited rows are deleted (409 unless pending)."""
    get_session().close()  # the receipt and the deletion manage their own transactions
    return service.record_receipt(
        get_engine(),
        deposit_id=deposit_id,
        archive_reference=data["archive_reference"],
        received_at=datetime.combine(data["received_at"], time(), tzinfo=UTC),
        actor=current_actor(),
        instance_path=app_instance_path(),
    )


@blp.route("/retention/deposits/<int:deposit_id>/reject", methods=["POST"])
@blp.arguments(DepositRejectInSchema)
@blp.response(200, DepositSchema)
@require("retention:run")
def deposit_reject(data: dict[str, Any], deposit_id: int) -> Any:
    """Record that the archive rejected the extract; its rows may be deposited again (409 unless pending)."""
    return service.reject_deposit(
        get_session(), deposit_id=deposit_id, reason=data["reason"], actor=current_actor()
    )


@blp.route("/retention/deposits/<int:deposit_id>/remake", methods=["POST"])
@blp.response(201, DepositSchema)
@require("retention:run")
def deposit_remake(deposit_id: int) -> Any:
    """Make a new extract of a rejected deposit's rows (409 unless rejected and not yet remade)."""
    get_session().close()  # the extract manages its own transactions
    return service.remake_deposit(
        get_engine(), deposit_id=deposit_id, actor=current_actor(), instance_path=app_instance_path()
    )
