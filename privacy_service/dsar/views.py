"""Officer pages for requests: the queue, one request with its timeline, the actions, letters and calls."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from marshmallow import ValidationError
from wtforms import DateTimeLocalField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from privacy_service.db import get_session
from privacy_service.dsar import service
from privacy_service.dsar.api import send_document
from privacy_service.dsar.labels import (
    APPEAL_OUTCOME_LABELS,
    APPEAL_STATUS_LABELS,
    CHANNEL_LABELS,
    DECISION_LABELS,
    ERASURE_STRATEGY_LABELS,
    HOLD_KINDS,
    IDENTIFIER_LABELS,
    MANUAL_LABELS,
    NOT_TOLD_LABELS,
    OFFICER_EVENT_LABELS,
    OPENDSR_STATUS_LABELS,
    OPENDSR_TYPE_LABELS,
    OUTCOME_LABELS,
    RECIPIENT_KINDS,
    RECIPIENT_STATES,
    RETRY_STATES,
    RIGHTS,
)
from privacy_service.dsar.schemas import (
    OFFICER_CHANNELS,
    STATUSES,
    TYPES,
    AppealInSchema,
    AppealStepInSchema,
    DecisionInSchema,
    ManualResultInSchema,
    NotToldInSchema,
    RequestInSchema,
    WithholdingInSchema,
)
from privacy_service.errors import Conflict, DomainError, ValidationFailed
from privacy_service.http import (
    app_instance_path,
    app_links,
    confirmation,
    confirmed,
    page_message,
    rows_and_tables,
)
from privacy_service.kernel import utcnow
from privacy_service.security.access import current_actor, current_principal, page

bp = Blueprint("dsar_officer", __name__, url_prefix="/officer/requests", template_folder="templates")


@bp.context_processor
def _officer_words() -> dict[str, Any]:
    """The timeline in the officer's words (the subject's status page words it for her)."""
    return {
        "event_label": lambda kind: str(OFFICER_EVENT_LABELS.get(kind, kind)),
        "erasure_strategy_label": lambda s: str(ERASURE_STRATEGY_LABELS.get(s, s)),
        "identifier_labels": lambda kinds: ", ".join(str(IDENTIFIER_LABELS.get(k, k)) for k in kinds),
    }


class LetterForm(FlaskForm):
    type = SelectField(_l("Right"), choices=[SelectChoice(k, v[0]) for k, v in RIGHTS.items()])
    channel = SelectField(
        _l("Came by"), choices=[SelectChoice(c, CHANNEL_LABELS[c]) for c in OFFICER_CHANNELS]
    )
    received_at = DateTimeLocalField(
        _l("Received (Oslo time)"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()]
    )
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    email = StringField(_l("E-mail address"), validators=[Optional(), Length(max=254)])
    national_id = StringField(_l("National identity number"), validators=[Optional(), Length(min=11, max=11)])
    language = SelectField(
        _l("Answer in"), choices=[SelectChoice("nb", "bokmål"), SelectChoice("en", "English")]
    )
    text = TextAreaField(
        _l("What the subject asked (no more personal data than needed)"), validators=[Length(max=5000)]
    )


# What the withholding form says of a field it refused, in the officer's language.
WITHHOLD_PROBLEMS = {
    "activity": _l("The request does not cover that activity."),
    "system": _l("Choose a table of the activity's data."),
    "table": _l("Choose a table of the activity's data."),
    "column": _l("Not a data column of that table. To withhold the key, withhold the rows or the table."),
    "rows": _l("Withhold a column or rows, not both; list the rows' key values separated by commas."),
    "ground": _l("Choose a ground for withholding."),
    "reasons": _l("Give the reasons; the subject is told them."),
}


def _lang() -> str:
    return str(get_locale() or "nb")


def _can_manage() -> bool:
    principal = current_principal()
    return principal is not None and "requests:manage" in principal.scopes


@bp.get("/")
@page("requests:read")
def queue() -> str:
    """The queue, soonest deadline first, filtered by status, type, overdue or falling due within a week."""
    args = request.args
    status = args.get("status") if args.get("status") in STATUSES else None
    kind = args.get("type") if args.get("type") in TYPES else None
    session = get_session()
    found = service.list_requests(
        session,
        status=status,
        type=kind,
        overdue=True if args.get("overdue") == "1" else None,
        due_within_days=7 if args.get("soon") == "1" else None,
    )
    return render_template(
        "dsar/queue.html",
        found=found,
        counts=service.counts(session),
        appeals=[
            service.appeal_view(a, ref)
            for a, ref in service.list_appeals(session, status=None)
            if a.status != "decided"
        ],
        appeal_counts=service.appeal_counts(session),
        appeal_status_labels=APPEAL_STATUS_LABELS,
        today=service.local_date(utcnow()),
        statuses=STATUSES,
        types=TYPES,
        rights=RIGHTS,
        filters={"status": status, "type": kind, "overdue": args.get("overdue"), "soon": args.get("soon")},
        lang=_lang(),
    )


@bp.route("/new", methods=["GET", "POST"])
@page("requests:manage")
def register() -> Any:
    """Register a request that came by letter, phone, e-mail or in person, with the date it reached us."""
    form = LetterForm()
    if request.method == "GET":
        form.received_at.data = datetime.now(service.OSLO).replace(second=0, microsecond=0, tzinfo=None)
    errors: list[str] = []
    if form.validate_on_submit():
        received = form.received_at.data.replace(tzinfo=service.OSLO).astimezone(UTC)
        raw = {
            "type": form.type.data,
            "channel": form.channel.data,
            "received_at": received.isoformat(),
            "language": form.language.data,
            "subject": {
                k: v
                for k, v in {
                    "email": form.email.data or None,
                    "name": form.name.data or None,
                    "national_id": form.national_id.data or None,
                }.items()
                if v
            },  # fmt: skip
            "details": {"text": form.text.data} if form.text.data else {},
        }
        try:
            data = RequestInSchema().load(raw)
            created = service.create_request(
                get_session(), data=data, actor=current_actor(), links=app_links()
            )
        except DomainError as err:
            get_session().rollback()  # the form is shown again with the errors: nothing is kept
            errors = [page_message(err.message), *_flat(err.fields)]
        except ValidationError as err:
            errors = _flat(err.messages)
        else:
            flash(_("Request %(ref)s registered.", ref=created.request.reference))
            return redirect(url_for("dsar_officer.detail", reference=created.request.reference))
    else:
        errors = _flat(form.errors)
    return render_template("dsar/register.html", form=form, errors=errors, lang=_lang())


def _load(schema: Any, raw: dict[str, Any]) -> dict[str, Any]:
    """A form's fields checked as the API checks them; ValidationFailed with the fields otherwise."""
    try:
        return dict(schema.load({k: v for k, v in raw.items() if v is not None}))
    except ValidationError as err:
        raise ValidationFailed(_("The form is not valid."), fields=err.normalized_messages()) from err


def _flat(messages: Any, prefix: str = "") -> list[str]:
    if isinstance(messages, dict):
        return [
            m for k, v in messages.items() for m in _flat(v, f"{prefix}{k}: " if k != "_schema" else prefix)
        ]
    if isinstance(messages, list):
        return [m for v in messages for m in _flat(v, prefix)]
    return [f"{prefix}{page_message(messages)}"]


@bp.get("/blocked-erasures")
@page("requests:read")
def blocked() -> str:
    """The erasures a hold blocked: which request and activity, rows held, the hold and the retry's state."""
    return render_template(
        "dsar/blocked.html",
        found=service.blocked_erasures(get_session()),
        hold_kinds=HOLD_KINDS,
        retry_states=RETRY_STATES,
        lang=_lang() if _lang() in ("nb", "en") else "nb",
    )


@bp.get("/<reference>")
@page("requests:read")
def detail(reference: str) -> str:
    """One request: the facts, its timeline, and the actions its status allows."""
    session = get_session()
    req = service.get_request(session, reference=reference)
    return render_template(
        "dsar/detail.html",
        req=req,
        events=service.timeline(session, req),
        outcomes=(outcomes := service.outcomes(session, req)),
        draft=service.draft_of(session, req),
        identifiers=service.identifiers(req),
        rights=RIGHTS,
        grounds=service.rejection_texts(_lang()),
        right_reason=lambda reason: service.rule_reason(reason, _lang()),
        refusal_grounds={
            k: g[_lang() if _lang() in ("nb", "en") else "nb"] for k, g in service.GROUNDS.items()
        },
        decision_labels=DECISION_LABELS,
        manual_labels=MANUAL_LABELS,
        outcome_labels=OUTCOME_LABELS,
        restricted=service.restricted_activities(session, req),
        recipient_states=RECIPIENT_STATES,
        recipient_kinds=RECIPIENT_KINDS,
        not_told_labels=NOT_TOLD_LABELS,
        processors=service.processor_requests(session, req),
        opendsr_statuses=OPENDSR_STATUS_LABELS,
        opendsr_types=OPENDSR_TYPE_LABELS,
        manage=_can_manage(),
        withholdings=service.withholdings(session, req),
        withholdable=service.withholdable_tables(session, req),
        withholding_grounds={
            k: refusal for k in service.WITHHOLDING_GROUNDS if (refusal := service.ground_text(k, _lang()))
        },  # fmt: skip
        overdue=service.is_overdue(req),
        appeals=[service.appeal_view(a, req.reference) for a in service.appeals_of(session, req)],
        appealable=service.appealable(session, req),
        activity_names=service.activity_names(session, [o.activity for o in outcomes], _lang()),
        appeal_status_labels=APPEAL_STATUS_LABELS,
        appeal_outcome_labels=APPEAL_OUTCOME_LABELS,
        lang=_lang(),
    )


@bp.post("/<reference>/<action>")
@page("requests:manage")
def act(reference: str, action: str) -> Any:
    """verify | ask_identity | plan | decide | manual | manual_bulk | approve | withhold | unwithhold |
    draft | complete | extend | reject | withdraw | appeal | appeal_step | lift_notice | lift | not_told
    (detail page forms)."""
    session = get_session()
    form, actor = request.form, current_actor()
    if action in CONFIRM_FIRST and not confirmed():
        return _confirm(session, reference, action)
    try:
        if action == "verify":
            service.verify_by_officer(session, reference=reference, note=form.get("note", ""),
                                      identifiers=form.getlist("identifiers"), actor=actor,
                                      secret=app_links().secret_key)  # fmt: skip
        elif action == "ask_identity":
            service.ask_identity(session, reference=reference, actor=actor, links=app_links())
        elif action == "extend":
            months = int(form["months"]) if form.get("months", "").isdigit() else 0
            service.extend(session, reference=reference, months=months, reason=form.get("reason", ""),
                           actor=actor, links=app_links())  # fmt: skip
        elif action == "reject":
            service.reject(session, reference=reference, ground=form.get("ground", ""),
                           reason=form.get("reason", ""), actor=actor, links=app_links())  # fmt: skip
        elif action == "plan":
            try:
                service.plan_request(session, reference=reference, actor=actor,
                                     instance_path=app_instance_path(),
                                     secret=app_links().secret_key)  # fmt: skip
            except service.NotPlannable as err:
                raise Conflict(_("A plan needs a confirmed, open request.")) from err
        elif action == "decide":
            item = {"activity": form.get("activity", ""), "decision": form.get("decision", ""),
                    "ground": form.get("ground") or None, "reasons": form.get("reasons", "")}  # fmt: skip
            decided = _load(DecisionInSchema(), item)
            service.decide_outcomes(session, reference=reference, items=[decided], actor=actor)
        elif action == "manual":
            records = form.get("records", "")
            item = {"activity": form.get("activity", ""), "result": form.get("result", ""),
                    "records": int(records) if records.isdigit() else None,
                    "controller": form.get("controller") or None}  # fmt: skip
            result = _load(ManualResultInSchema(), item)
            service.record_manual_results(session, reference=reference, items=[result], actor=actor)
        elif action == "manual_bulk":
            # every activity ticked, searched by hand and none found, in one transaction and one event
            items = [_load(ManualResultInSchema(), {"activity": a, "result": "none_found"})
                     for a in dict.fromkeys(form.getlist("activities"))]  # fmt: skip
            if not items:
                raise ValidationFailed(_("Tick at least one activity."))
            service.record_manual_results(session, reference=reference, items=items, actor=actor)
        elif action == "approve":
            service.approve(session, reference=reference, actor=actor, note=form.get("note"),
                            instance_path=app_instance_path(), links=app_links())  # fmt: skip
        elif action == "draft":
            service.make_draft(session, reference=reference, actor=actor, instance_path=app_instance_path(),
                               secret=app_links().secret_key)  # fmt: skip
            flash(_("The draft answer is ready: read it, then send it."))
            return redirect(url_for("dsar_officer.draft", reference=reference))
        elif action == "complete":
            service.complete(
                session,
                reference=reference,
                actor=actor,
                note=form.get("note"),
                draft=form.get("draft") or "",
                instance_path=app_instance_path(),
                links=app_links(),
            )
        elif action == "withhold":
            _withhold(reference, form, actor)
        elif action == "unwithhold":
            wid = form.get("withholding", "")
            service.remove_withholding(session, reference=reference, actor=actor,
                                       withholding_id=int(wid) if wid.isdigit() else 0)  # fmt: skip
        elif action == "appeal":
            data = _load(AppealInSchema(), {"received_on": form.get("received_on") or None,
                                            "activities": form.getlist("activities") or None,
                                            "note": form.get("note") or None})  # fmt: skip
            days = int(current_app.config.get("PRIVACY_APPEAL_PREPARE_DAYS", 21))
            service.register_appeal(session, reference=reference, actor=actor, prepare_days=days, **data)
        elif action == "appeal_step":
            appeal_id = int(form["appeal"]) if form.get("appeal", "").isdigit() else 0
            fields = ("step", "date", "note", "outcome", "decision_expected_on")
            data = _load(AppealStepInSchema(), {k: form.get(k) or None for k in fields})
            days = int(current_app.config.get("PRIVACY_APPEAL_DECISION_DAYS", 90))
            service.advance_appeal(session, reference=reference, appeal_id=appeal_id, actor=actor,
                                   decision_days=days, **data)  # fmt: skip
        elif action == "lift_notice":
            channel = form.get("channel", "email")
            service.send_lift_notice(session, reference=reference, activities=form.getlist("activities"),
                                     channel=channel, actor=actor, links=app_links())  # fmt: skip
        elif action == "lift":
            service.lift_restriction(session, reference=reference, activities=form.getlist("activities"),
                                     reasons=form.get("reasons", ""), actor=actor,
                                     instance_path=app_instance_path(),
                                     secret=app_links().secret_key)  # fmt: skip
        elif action == "not_told":
            item = {"activity": form.get("activity", ""), "recipient": form.get("recipient", ""),
                    "reason": form.get("reason", ""), "reasons": form.get("reasons", "")}  # fmt: skip
            recorded = _load(NotToldInSchema(), item)
            service.record_recipients_not_told(session, reference=reference, items=[recorded], actor=actor)
        elif action == "withdraw":
            service.withdraw(session, reference=reference, actor=actor, note=form.get("note"))
        else:
            return render_template("error.html", status=404, message=_("No such action.")), 404
    except DomainError as err:
        session.rollback()  # the answer is a redirect: undo the refused action here
        flash(" ".join([page_message(err.message), *_flat(err.fields)]))
    else:
        flash(_("Done."))
    return redirect(url_for("dsar_officer.detail", reference=reference))


# What cannot be undone is asked once more, on a page that says what will happen.
CONFIRM_FIRST = ("approve", "reject", "complete")


def _approve_consequences(session: Any, req: Any) -> list[str]:
    """What approving the plan will do, counted from the plan: the rows and tables acted on, what a hold
    keeps, what is refused and who is told."""
    outcomes = service.outcomes(session, req)
    acting = [o for o in outcomes if o.outcome in ("pending", "partial") and o.decision != "refuse"]
    refused = [o for o in outcomes if o.decision == "refuse"]
    # a hold stops an erasure, never an answer: only erasing counts the held rows apart
    erasing = req.type in ("erasure", "consent_withdrawal")
    found = [t for o in acting for t in (o.details or {}).get("tables", [])]
    free = [t["rows"] - (sum(t.get("held", {}).values()) if erasing else 0) for t in found]
    rows, tables = sum(n for n in free if n > 0), sum(1 for n in free if n > 0)
    held = sum(o.held for o in acting) if erasing else 0
    n = rows_and_tables(rows, tables)
    activities = len(acting)
    lines = {
        "erasure": _(
            "Erases %(rows)s in %(tables)s (deleted or anonymised as the data map says). "
            "This cannot be undone.",
            **n,
        ),
        "rectification": _("Corrects %(rows)s in %(tables)s as the subject asked.", **n),
        "restriction": ngettext(
            "Restricts the processing in %(num)s activity: portals that ask are told it is restricted.",
            "Restricts the processing in %(num)s activities: portals that ask are told it is restricted.",
            activities,
        ),
        "objection": ngettext(
            "Records the upheld objection in %(num)s activity: portals that ask are told to stop.",
            "Records the upheld objection in %(num)s activities: portals that ask are told to stop.",
            activities,
        ),
        "consent_withdrawal": ngettext(
            "Withdraws the consent in %(num)s activity and erases what it says to erase on withdrawal.",
            "Withdraws the consent in %(num)s activities and erases what each says to erase on withdrawal.",
            activities,
        ),
    }
    out = [
        lines.get(req.type) or _("Approves the plan: the answer is made from %(rows)s in %(tables)s.", **n)
        if acting
        else _("Changes no data: the plan has nothing to act on. The request goes on to the answer.")
    ]
    if held:
        out.append(
            ngettext(
                "%(num)s row is kept: a hold protects it.",
                "%(num)s rows are kept: a hold protects them.",
                held,
            )
        )
    if refused:
        out.append(
            ngettext(
                "%(num)s activity is refused; the letter gives the ground.",
                "%(num)s activities are refused; the letter gives the grounds.",
                len(refused),
            )
        )
    if req.type in ("rectification", "erasure", "restriction", "objection") and acting:
        out.append(_("The recipients the record names are told (Art. 19)."))
    return out


def _confirm(session: Any, reference: str, action: str) -> tuple[str, int]:
    req = service.get_request(session, reference=reference)
    back = url_for(
        "dsar_officer.draft" if action == "complete" else "dsar_officer.detail", reference=reference
    )
    if action == "approve":
        return confirmation(
            title=_("Approve the plan for %(reference)s?", reference=reference),
            consequences=_approve_consequences(session, req),
            button=_("Approve and carry it out"),
            back=back,
        )
    if action == "reject":
        ground = service.rejection_texts(_lang()).get(request.form.get("ground", ""), "")
        return confirmation(
            title=_("Reject %(reference)s?", reference=reference),
            consequences=[
                _("Rejects the whole request on the ground: %(ground)s.", ground=ground),
                _(
                    "The subject is told by e-mail, with the ground and the right to complain "
                    "to Datatilsynet. The request is closed."
                ),
            ],
            button=_("Reject the request"),
            back=back,
        )
    with_data = req.type in ("access", "portability")
    return confirmation(
        title=_("Send the answer to %(reference)s?", reference=reference),
        consequences=[
            _(
                "Sends the letter you read, with the subject's data as a ZIP, to the confirmed address "
                "and closes the request."
            )
            if with_data
            else _("Sends the letter you read to the confirmed address and closes the request."),
            _("A sent answer cannot be called back."),
        ],
        button=_("Send the answer"),
        back=back,
    )


@bp.get("/<reference>/draft")
@page("requests:manage")
def draft(reference: str) -> Any:
    """The draft answer as the subject will read it, with the button that sends it."""
    session = get_session()
    req = service.get_request(session, reference=reference)
    html = service.draft_of(session, req, "draft_html")
    letter = service.draft_of(session, req, "draft")
    if html is None or letter is None:
        flash(_("There is no draft answer: make one first."))
        return redirect(url_for("dsar_officer.detail", reference=reference))
    return render_template(
        "dsar/draft.html",
        req=req,
        letter_html=Markup(html.content.decode()),  # noqa: S704 - made by dsar/letter.py, every text escaped
        letter=letter,
        rights=RIGHTS,
        lang=_lang(),
    )


def _withhold(reference: str, form: Any, actor: Any) -> None:
    """The withholding form: a table (activity/system/table), an optional column or row keys (comma
    separated), a ground and reasons; refused fields come back in the officer's language."""
    activity, __, where = form.get("target", "").partition("/")
    system, __, table = where.partition("/")
    rows = [k.strip() for k in form.get("rows", "").split(",") if k.strip()]
    raw = {
        "activity": activity,
        "system": system,
        "table": table,
        "column": form.get("column") or None,
        "rows": rows or None,
        "ground": form.get("ground", ""),
        "reasons": form.get("reasons", ""),
    }
    try:
        data = _load(WithholdingInSchema(), raw)
        service.withhold(get_session(), reference=reference, data=data, actor=actor)
    except ValidationFailed as err:
        said = dict.fromkeys(str(WITHHOLD_PROBLEMS.get(k, _("The form is not valid."))) for k in err.fields)
        raise ValidationFailed(_("The withholding is not valid."), fields={"_schema": list(said)}) from err


@bp.get("/<reference>/<any(letter, export, draft_letter, draft_zip):kind>")
@page("requests:read")
def document(reference: str, kind: str) -> Any:
    """The stored answer of a completed request, or (for officers) the draft letter and export (…/draft
    itself is the page that shows the draft)."""
    if kind.startswith("draft") and not _can_manage():
        return render_template("error.html", status=403, message=_("Only an officer can read a draft.")), 403
    session = get_session()
    stored = "draft" if kind == "draft_letter" else kind
    doc = service.document(session, service.get_request(session, reference=reference), stored)
    if doc is None:
        return render_template("error.html", status=404, message=_("No answer is stored.")), 404
    return send_document(doc)
