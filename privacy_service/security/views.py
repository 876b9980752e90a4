"""Officer login and logout pages."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from privacy_service.audit import Actor, record_event
from privacy_service.db import get_session, keep_changes
from privacy_service.kernel import utcnow
from privacy_service.security.access import current_actor, public
from privacy_service.security.service import InvalidCredentials, authenticate_user

bp = Blueprint("auth", __name__, template_folder="templates")


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=100)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=500)])


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect after login is a phishing aid.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("start.overview")  # the start page: what is due


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Any:
    """Log an officer in."""
    form = LoginForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            user = authenticate_user(db, username=form.username.data, password=form.password.data)
        except InvalidCredentials:
            record_event(
                db,
                actor=Actor("anonymous", request.remote_addr or "-"),
                action="auth.login_failed",
                object_type="user",
                object_id="-",
                details={},
            )
            keep_changes()  # the refused login's audit event stays although the answer is 401
            form.password.errors.append(_("Wrong username or password."))
            return render_template("auth/login.html", form=form), 401
        session.clear()  # a fresh session on login: no fixation
        login_user(user)
        user.last_login_at = utcnow()
        record_event(
            db,
            actor=Actor("user", user.username, user.role),
            action="auth.login",
            object_type="user",
            object_id=str(user.id),
        )
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form), 400 if form.errors else 200


@bp.post("/logout")
@public
def logout() -> Any:
    """Log the officer out."""
    actor = current_actor()
    if actor.kind == "user" and current_user.is_authenticated:
        db = get_session()
        current_user.session_version += 1  # every copy of this session's cookie stops working
        record_event(db, actor=actor, action="auth.logout", object_type="user", object_id=actor.id)
    logout_user()
    session.clear()
    flash(_("You are logged out."))
    return redirect(url_for("auth.login"))
