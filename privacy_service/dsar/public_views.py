"""Public request pages: the form, the e-mail confirmation and the subject's status page (bokmål and English).

The form never says whether we know the person: every submission gets the same answer and an e-mail check.
Links carry random tokens, never the subject's identity.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from babel.dates import format_date
from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from marshmallow import ValidationError
from marshmallow.validate import Email
from wtforms import (
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)

from privacy_service.audit import Actor
from privacy_service.db import get_session
from privacy_service.dsar import service
from privacy_service.dsar.api import send_document
from privacy_service.dsar.labels import (
    EVENT_LABELS,
    IDENTITY_LABELS,
    METHOD_LABELS,
    OUTCOME_LABELS,
    RIGHTS,
    STATUS_LABELS,
    identifier_label,
)
from privacy_service.errors import Conflict, DomainError, NotFound
from privacy_service.http import app_links
from privacy_service.kernel import valid_national_id
from privacy_service.security.access import public

bp = Blueprint("dsar_pages", __name__, template_folder="templates")
REFERENCE_RE = re.compile(r"DSR-\d{4}-\d{6}")


class RequestForm(FlaskForm):
    type = RadioField(
        _l("What do you want to do?"),
        choices=[SelectChoice(k, v[0]) for k, v in RIGHTS.items()],
        default="access",
    )
    name = StringField(_l("Your name"))
    email = StringField(_l("Your e-mail address"))
    national_id = StringField(_l("National identity number (optional)"))
    activities = SelectMultipleField(_l("Which of our services is it about? (optional: leave empty for all)"))
    field = SelectField(_l("Which information is wrong?"), default="", validate_choice=False)  # checked below
    value = StringField(_l("What is correct?"))
    text = TextAreaField(_l("Anything else we should know? (optional)"))


def _lang() -> str:
    return str(get_locale() or "nb")


def _choices(session: Any, lang: str) -> tuple[list[SelectChoice], list[SelectChoice]]:
    items, columns = service.form_choices(session)
    activities = [
        SelectChoice(a.slug, a.name["en"] if lang == "en" else a.name["nb"], optgroup=a.service)
        for a in items
    ]
    return activities, [SelectChoice("", "—"), *(SelectChoice(c, c.replace("_", " ")) for c in columns)]


def _check(form: RequestForm) -> dict[str, list[str]]:
    """The form's own checks, with messages in the user's language."""
    errors: dict[str, list[str]] = {}
    if form.type.data not in RIGHTS:
        errors["type"] = [_("Choose what you want to do.")]
    if not (form.name.data or "").strip():
        errors["name"] = [_("Write your name.")]
    try:
        Email()((form.email.data or "").strip())
    except ValidationError:
        errors["email"] = [_("Write a valid e-mail address, such as ola@example.no.")]
    nid = (form.national_id.data or "").replace(" ", "")
    if nid and not valid_national_id(nid):
        errors["national_id"] = [_("This is not a valid national identity number (11 digits).")]
    if form.type.data == "rectification":
        if not form.field.data or form.field.data not in {c.value for c in form.field.choices or []}:
            errors["field"] = [_("Choose the information that is wrong.")]
        if not (form.value.data or "").strip():
            errors["value"] = [_("Write what is correct.")]
    if len(form.text.data or "") > 5000:
        errors["text"] = [_("Write at most 5,000 characters.")]
    return errors


@bp.route("/requests/new", methods=["GET", "POST"])
@public
def new_request() -> Any:
    """The public request form."""
    session = get_session()
    lang = _lang()
    form = RequestForm()
    form.activities.choices, form.field.choices = _choices(session, lang)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        if not form.validate_on_submit():  # CSRF and choices
            errors = {name: [str(m) for m in msgs] for name, msgs in form.errors.items()}
        errors = errors or _check(form)
        if not errors:
            data = {
                "type": form.type.data,
                "subject": {
                    "email": form.email.data.strip(),
                    "name": form.name.data.strip()[:200],
                    "national_id": (form.national_id.data or "").replace(" ", "") or None,
                },
                "activities": list(form.activities.data or []),
                "details": {
                    "field": form.field.data or None if form.type.data == "rectification" else None,
                    "value": (form.value.data or "").strip() or None
                    if form.type.data == "rectification"
                    else None,
                    "text": (form.text.data or "").strip() or None,
                },
                "channel": "web",
                "language": lang,
            }
            try:
                created = service.create_request(
                    session, data=data, actor=Actor("subject", "web-form"), links=app_links()
                )
            except DomainError:  # answered 422 below: the request's changes roll back
                errors = {"form": [_("We could not register the request. Check the fields and try again.")]}
            else:
                return render_template(
                    "dsar/submitted.html",
                    req=created.request,
                    status_url=url_for("dsar_pages.status", token=created.status_token),
                    lang=lang,
                )
    return render_template("dsar/new.html", form=form, rights=RIGHTS, errors=errors, lang=lang), (
        422 if errors else 200
    )


def _problem(reason: str) -> tuple[str, int]:
    messages = {
        "invalid": _("This link is not valid. Check that the whole link was copied."),
        "used": _("This link has been used already. Your request is confirmed; see its status page."),
        "expired": _("This link has expired. Ask for a new one on your request's status page."),
        "locked": _("Too many wrong codes. Ask for a new code on the status page."),
        "closed": _("This request no longer waits for a confirmation."),
        "locked_day": _(
            "Too many wrong codes have been entered for this e-mail address today. To protect you, only our "
            "privacy team can confirm the request now: contact us and give the reference."
        ),
    }
    status = {"invalid": 404, "used": 410, "expired": 410}.get(reason, 409)
    return render_template("dsar/verify.html", step="problem", message=messages[reason], lang=_lang()), status


@bp.get("/requests/verify/<token>")
@public
def verify_page(token: str) -> Any:
    """Ask the subject to press the button: a GET changes nothing (mail scanners open links)."""
    try:
        req = service.check_link(get_session(), token=token)
    except service.ChallengeProblem as problem:
        return _problem(problem.reason)
    return render_template("dsar/verify.html", step="confirm", req=req, lang=_lang())


@bp.post("/requests/verify/<token>")
@public
def verify(token: str) -> Any:
    try:
        req = service.verify_link(get_session(), token=token)
    except service.ChallengeProblem as problem:
        return _problem(problem.reason)
    return render_template("dsar/verify.html", step="done", req=req, lang=_lang())


def _request_for(token: str) -> Any:
    try:
        return service.request_by_status_token(get_session(), token=token)
    except NotFound:
        return None


def _no_request() -> tuple[str, int]:
    message = _("We found no request for this link. Check that the whole link was copied.")
    return render_template("dsar/verify.html", step="problem", message=message, lang=_lang()), 404


@bp.get("/requests/status/<token>")
@public
def status(token: str) -> Any:
    """The subject's view of the request: where it stands, the deadline and every step; the answer only
    when whoever holds this link proved to be the verified person."""
    req = _request_for(token)
    if req is None:
        return _no_request()
    visible = service.answer_visible_to_submitter(req)
    return _status_page(req, token=token, show_answer=visible, message=request.args.get("m"))


def _status_page(req: Any, *, token: str | None, show_answer: bool, message: str | None = None) -> str:
    session = get_session()
    return render_template(
        "dsar/status.html",
        req=req,
        token=token,
        events=service.timeline(session, req, subject_view=True),
        outcomes=service.outcomes(session, req),
        downloads=_download_links(req) if show_answer else {},
        answer_elsewhere=service.downloadable(req) and not show_answer,
        rights=RIGHTS,
        message=message,
        lang=_lang(),
    )


@bp.get("/requests/mine/<token>")
@public
def mailbox(token: str) -> Any:
    """The request and its answer, through the link sent to the verified address (answer mail, find page)."""
    try:
        req = service.request_by_mailbox_link(
            get_session(), token=token, secret_key=current_app.config["SECRET_KEY"]
        )
    except NotFound:
        message = _("This link is not valid or has expired. You can ask for a new one.")
        page = render_template("dsar/verify.html", step="problem", message=message, heading=_("Your request"),
                               lang=_lang())  # fmt: skip
        return page, 404
    return _status_page(req, token=None, show_answer=True)


@bp.route("/requests/find", methods=["GET", "POST"])
@public
def find() -> Any:
    """Get back to a request: a fresh link goes to the address it was confirmed from. The page answers the
    same whether or not the reference and address match (it never tells who asked us what)."""
    form = FlaskForm()
    reference, email = (request.form.get("reference") or "")[:20], (request.form.get("email") or "")[:254]
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        if not form.validate_on_submit():
            errors["form"] = [_("The form has expired. Reload the page and try again.")]
        if not REFERENCE_RE.fullmatch(reference.strip().upper()):
            errors["reference"] = [
                _("Write the reference as it stands in our e-mail, such as DSR-2026-000123.")
            ]
        try:
            Email()(email.strip())
        except ValidationError:
            errors["email"] = [_("Write a valid e-mail address, such as ola@example.no.")]
        if not errors:
            service.send_find_link(get_session(), reference=reference, email=email, links=app_links())
            return render_template("dsar/find.html", sent=True, lang=_lang())
    page = render_template("dsar/find.html", sent=False, errors=errors, reference=reference, email=email,
                           lang=_lang())  # fmt: skip
    return page, 422 if errors else 200


DOWNLOAD_SALT = "privacy-service.dsar-download.v1"
DOWNLOAD_SECONDS = 3600  # a download link from the status page works for an hour


def _download_links(req: Any) -> dict[str, str]:
    if not service.downloadable(req):
        return {}
    signer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=DOWNLOAD_SALT)
    return {
        kind: url_for("dsar_pages.download", signed=signer.dumps({"r": req.id, "k": kind}))
        for kind in ("letter", "export")
    }


@bp.get("/requests/download/<signed>")
@public
def download(signed: str) -> Any:
    """The answer, through a link from the status page that expires after an hour."""
    signer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=DOWNLOAD_SALT)
    try:
        payload = signer.loads(signed, max_age=DOWNLOAD_SECONDS)
    except SignatureExpired:
        return _problem("expired")
    except BadSignature:
        return _problem("invalid")
    session = get_session()
    req = service.request_by_id(session, payload.get("r")) if isinstance(payload, dict) else None
    doc = service.document(session, req, payload.get("k", "")) if req is not None else None
    if req is None or doc is None or not service.downloadable(req):
        message = _("The answer is no longer available here. Contact us with your reference to get it again.")
        return render_template("dsar/verify.html", step="problem", message=message, lang=_lang()), 410
    return send_document(doc)


@bp.post("/requests/status/<token>/code")
@public
def enter_code(token: str) -> Any:
    try:
        req, ok = service.verify_code(
            get_session(),
            status_token=token,
            code=request.form.get("code", "")[:12],
            secret_key=current_app.config["SECRET_KEY"],
        )
    except service.ChallengeProblem as problem:
        return _problem(problem.reason)
    return redirect(url_for("dsar_pages.status", token=token, m="confirmed" if ok else "wrong_code"))


def _subject_action(token: str, action: Callable[[Any, Any], Any], done: str) -> Any:
    """Run a subject's action on the request behind a status link; a closed request changes nothing."""
    session = get_session()
    req = _request_for(token)
    if req is None:
        return _no_request()
    try:
        action(session, req)
    except Conflict:
        session.rollback()  # the answer is a redirect: undo the refused action here
        return redirect(url_for("dsar_pages.status", token=token, m="closed"))
    return redirect(url_for("dsar_pages.status", token=token, m=done))


@bp.post("/requests/status/<token>/resend")
@public
def resend(token: str) -> Any:
    """Send a new confirmation link and code (the old ones stop working)."""
    return _subject_action(
        token,
        lambda session, req: service.resend_challenge(
            session, reference=req.reference, actor=Actor("subject", req.reference), links=app_links()
        ),
        "resent",
    )


@bp.post("/requests/status/<token>/withdraw")
@public
def withdraw(token: str) -> Any:
    """The subject withdraws the request."""
    return _subject_action(
        token,
        lambda session, req: service.withdraw(
            session, reference=req.reference, actor=Actor("subject", req.reference)
        ),
        "withdrawn",
    )


@bp.app_template_filter("day")
def day(value: date | datetime | None, lang: str = "nb") -> str:
    """A date in words, in the page's language (2. desember 2026 / December 2, 2026)."""
    if isinstance(value, datetime):
        value = service.local_date(value)
    return format_date(value, format="long", locale="nb_NO" if lang == "nb" else "en") if value else ""


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {
        "status_label": lambda s: str(STATUS_LABELS.get(s, s)),
        "event_label": lambda k: str(EVENT_LABELS.get(k, k.replace("_", " "))),
        "outcome_label": lambda o: str(OUTCOME_LABELS.get(o, o)),
        "identifier_label": identifier_label,
        "method_label": lambda m: str(METHOD_LABELS.get(m, m)),
        "identity_label": lambda s: str(IDENTITY_LABELS.get(s, s)),
        "right_label": lambda r: str(RIGHTS[r][0]) if r in RIGHTS else r,
        "right_choices": lambda: [(k, str(v[0])) for k, v in RIGHTS.items()],
    }
