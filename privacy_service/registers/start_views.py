"""The officers' start page: what is due, charts of the requests and consents, a request search, and the
request log for the annual report."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from privacy_service.db import get_session
from privacy_service.dsar.labels import CHANNEL_LABELS, OFFICER_STATUS_LABELS, RIGHT_NAMES
from privacy_service.kernel import neutralise, utcnow
from privacy_service.registers import charts, start
from privacy_service.registers.dpia_views import ATTENTION_WORDS, TRIGGER_WORDS
from privacy_service.registers.service import label as registers_label
from privacy_service.security.access import current_principal, page

bp = Blueprint("start", __name__, url_prefix="/officer", template_folder="templates")


class SearchForm(FlaskForm):
    # Sent by POST: a name or an e-mail address never travels in a URL (logs, history, Referer)
    q = StringField(validators=[DataRequired(), Length(min=2, max=254)])


def _lang() -> str:
    return "en" if str(get_locale() or "nb") == "en" else "nb"


def _today() -> Any:
    from privacy_service.dsar.service import local_date

    return local_date(utcnow())


def _can(scope: str) -> bool:
    principal = current_principal()
    return principal is not None and scope in principal.scopes


@bp.get("/")
@page("registry:read")
def overview() -> str:
    """The start page: what is due, a request search, then the charts."""
    return _render(SearchForm(), found=None)


@bp.get("/registers")
@page("registry:read")
def registers() -> str:
    """The registers a DPO keeps beside the record, one line each (the officer nav has one link for them)."""
    return render_template("registers/index.html", can_breaches=_can("breaches:manage"))


@bp.post("/search")
@page("requests:read")
def search() -> str:
    """Requests by reference, the subject's e-mail address or a part of the name."""
    form = SearchForm()
    found = (
        start.search_requests(get_session(), query=form.q.data or "") if form.validate_on_submit() else None
    )
    return _render(form, found=found)


def _render(form: SearchForm, *, found: list[Any] | None) -> str:
    session, today = get_session(), _today()
    can_requests = _can("requests:read")
    return render_template(
        "registers/start.html",
        due=start.due_now(session, today=today) if can_requests else None,
        today=today,
        form=form,
        found=found,
        names=start.activity_names(session),
        rights=RIGHT_NAMES,
        statuses=OFFICER_STATUS_LABELS,
        lang=_lang(),
        can_requests=can_requests,
        can_consents=_can("consent:read"),
        reviews=start.reviews_due(session, today=today),
        dpias=start.dpias_needing_attention(session),
        attention_words=ATTENTION_WORDS,
        can_assess=_can("registry:write"),
        trigger_words=TRIGGER_WORDS,
        breaches=start.open_breaches(session) if _can("breaches:manage") else None,
        label=registers_label,
        years=[today.year - i for i in range(3)],
    )


def _month_label(month: Any) -> str:
    return format_date(month, "MMM yyyy")


def _svg(body: bytes) -> Response:
    response = Response(body, mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@bp.get("/charts/requests.svg")
@page("requests:read")
def requests_chart() -> Response:
    """Requests received per month, stacked by right."""
    per_month = start.requests_per_month(get_session(), today=_today())
    months = list(per_month)
    series = {str(RIGHT_NAMES[r]): [per_month[m][r] for m in months] for r in RIGHT_NAMES}
    return _svg(
        charts.stacked_bars(
            _("Requests received per month, by right"),
            [_month_label(m) for m in months],
            series,
            no_data=_("No requests in the last 12 months."),
        )
    )


@bp.get("/charts/answers.svg")
@page("requests:read")
def answers_chart() -> Response:
    """Median days to answer against the median days the deadline allowed, per month of the answer."""
    rows = start.answer_times(get_session(), today=_today())
    series = {
        _("Days taken (median)"): [r.median_days if r.answered else None for r in rows],
        _("Days allowed (median)"): [r.median_allowed if r.answered else None for r in rows],
    }
    return _svg(
        charts.lines(
            _("Days to answer against the deadline"),
            [_month_label(r.month) for r in rows],
            series,
            no_data=_("No requests answered in the last 12 months."),
        )
    )


@bp.get("/charts/consents.svg")
@page("consent:read")
def consents_chart() -> Response:
    """Consents given and withdrawn per purpose over the last 12 months."""
    session = get_session()
    counts = start.consents_per_purpose(session, today=_today())
    names, lang = start.activity_names(session), _lang()
    purposes = sorted(counts, key=lambda p: names.get(p, {}).get(lang, p))
    return _svg(
        charts.horizontal_bars(
            _("Consents given and withdrawn, last 12 months"),
            [names.get(p, {}).get(lang, p) for p in purposes],
            {
                _("Given"): [counts[p]["given"] for p in purposes],
                _("Withdrawn"): [counts[p]["withdrawn"] for p in purposes],
            },
            no_data=_("No consents given or withdrawn in the last 12 months."),
        )
    )


@bp.get("/request-log.csv")
@page("requests:read")
def request_log() -> Response:
    """The year's requests for the annual report: no names, addresses or identity numbers."""
    year = request.args.get("year", type=int) or _today().year
    if not 2000 <= year <= 2100:
        abort(404)
    rows = start.request_log(get_session(), year=year)
    yes, no = _("yes"), _("no")
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        [
            _("Reference"),
            _("Right"),
            _("Came by"),
            _("Received"),
            _("Deadline"),
            _("Extended (months)"),
            _("Status"),
            _("Answered"),
            _("Days to answer"),
            _("On time"),
        ]
    )
    for r in rows:
        writer.writerow(
            [
                neutralise(r["reference"]),
                str(RIGHT_NAMES.get(r["right"], "")),
                str(CHANNEL_LABELS.get(r["channel"], "")),
                r["received"].isoformat(),
                r["due"].isoformat(),
                r["extended_months"],
                str(OFFICER_STATUS_LABELS.get(r["status"], "")),
                r["answered"].isoformat() if r["answered"] else "",
                "" if r["days"] is None else r["days"],
                "" if r["on_time"] is None else (yes if r["on_time"] else no),
            ]
        )
    response = Response("\ufeff" + out.getvalue(), mimetype="text/csv; charset=utf-8")
    name = _("request-log") + f"-{year}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
