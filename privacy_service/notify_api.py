"""/api/v1/webhooks: portal services subscribe to events, ping a subscription, read and redeliver its
deliveries; /api/v1/deliveries: the officers' delivery log."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from privacy_service import notify, webhook_deliveries, webhooks
from privacy_service.db import get_session, page_of
from privacy_service.http import Window, page_args, paged
from privacy_service.kernel import PageArgsSchema, StrictSchema
from privacy_service.security.access import current_actor, current_principal, require

blp = Blueprint(
    "webhooks", __name__, description="Signed webhooks for portal services, and their delivery log"
)


class SubscriptionInSchema(StrictSchema):
    url = fields.URL(
        required=True, schemes={"http", "https"}, require_tld=False, validate=validate.Length(max=500)
    )
    events = fields.List(
        fields.String(validate=validate.OneOf(webhooks.EVENTS)),
        required=True,
        validate=validate.Length(min=1),
    )


class SubscriptionSchema(Schema):
    id = fields.Integer()
    client = fields.String()
    url = fields.String()
    events = fields.List(fields.String())
    active = fields.Boolean()
    created_at = fields.DateTime()


class NewSubscriptionSchema(SubscriptionSchema):
    secret = fields.String(
        metadata={"description": "The HMAC-SHA256 key of X-Privacy-Signature; shown once, keep it secret"}
    )


class AttemptSchema(Schema):
    at = fields.DateTime()
    ok = fields.Boolean()
    status_code = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    duration_ms = fields.Integer()


class DeliverySchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    event = fields.String()
    subscription_id = fields.Integer(allow_none=True)
    status = fields.String(metadata={"description": "pending | delivered | failed"})
    attempts = fields.Integer()
    next_attempt_at = fields.DateTime(allow_none=True)
    last_error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    delivered_at = fields.DateTime(allow_none=True)
    log = fields.List(fields.Nested(AttemptSchema))


class SubscriptionDeliverySchema(Schema):
    id = fields.Integer(
        metadata={"description": "The delivery id: X-Privacy-Delivery and `delivery` in the body"}
    )
    event = fields.String()
    created_at = fields.DateTime()
    state = fields.String(metadata={"description": "pending | delivered | failed"})
    attempts = fields.Integer(metadata={"description": "Every attempt made, redeliveries included"})
    last_status_code = fields.Integer(
        allow_none=True, metadata={"description": "Your receiver's last answer"}
    )
    last_error = fields.String(allow_none=True)
    last_attempt_at = fields.DateTime(allow_none=True)
    next_attempt_at = fields.DateTime(allow_none=True, metadata={"description": "While pending"})
    delivered_at = fields.DateTime(allow_none=True)


class SubscriptionDeliveryPageSchema(Schema):
    items = fields.List(fields.Nested(SubscriptionDeliverySchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


def _client() -> str | None:
    """The API client calling, or None for an officer (who sees every client's subscriptions)."""
    principal = current_principal()
    return principal.actor.id if principal is not None and principal.via == "key" else None


@blp.route("/webhooks")
class Webhooks(MethodView):
    @blp.response(200, SubscriptionSchema(many=True))
    @require("consent:read")
    @paged
    def get(self) -> list[Any]:
        """The caller's subscriptions (an officer sees all)."""
        return webhooks.list_subscriptions(get_session(), client=_client())

    @blp.arguments(SubscriptionInSchema)
    @blp.response(201, NewSubscriptionSchema)
    @require("consent:read", sessions=False)
    def post(self, data: dict[str, Any]) -> Any:
        """Subscribe a URL to events; the answer holds the signing secret, shown this once.

        The URL must be https, without user name or password, on a host with public addresses only; a
        client holds at most PRIVACY_WEBHOOK_MAX_SUBSCRIPTIONS active subscriptions (409 beyond)."""
        return webhooks.subscribe(
            get_session(),
            client=_client() or "",
            url=data["url"],
            events=data["events"],
            actor=current_actor(),
            policy=webhooks.TargetPolicy.from_config(current_app.config),
            limit=int(current_app.config.get("PRIVACY_WEBHOOK_MAX_SUBSCRIPTIONS") or 10),
        )


@blp.route("/webhooks/<int:subscription_id>", methods=["DELETE"])
@blp.response(204)
@require("consent:read")
def delete_webhook(subscription_id: int) -> None:
    """End a subscription (a client ends only its own); deliveries already queued are still made."""
    session = get_session()
    webhooks.unsubscribe(session, subscription_id=subscription_id, client=_client(), actor=current_actor())


@blp.route("/webhooks/<int:subscription_id>/ping", methods=["POST"])
@blp.response(202, SubscriptionDeliverySchema)
@require("consent:read")
def ping_webhook(subscription_id: int) -> dict[str, Any]:
    """Queue a signed `webhook.ping` to this subscription only (a client pings only its own)."""
    return webhook_deliveries.ping(
        get_session(), subscription_id=subscription_id, client=_client(), actor=current_actor()
    )


@blp.route("/webhooks/<int:subscription_id>/deliveries")
@blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
@blp.response(200, SubscriptionDeliveryPageSchema)
@require("consent:read")
@paged
def webhook_deliveries_page(subscription_id: int, page: int, per_page: int) -> dict[str, Any]:
    """This subscription's deliveries, newest first, with their state and the receiver's last answer."""
    return webhook_deliveries.list_deliveries(
        get_session(), subscription_id=subscription_id, client=_client(), page=page, per_page=per_page
    )


@blp.route("/webhooks/<int:subscription_id>/deliveries/<int:delivery_id>/redeliver", methods=["POST"])
@blp.response(202, SubscriptionDeliverySchema)
@require("consent:read")
def redeliver_webhook(subscription_id: int, delivery_id: int) -> dict[str, Any]:
    """Queue a delivered or failed delivery again (same id and body, signed afresh); 409 while pending."""
    return webhook_deliveries.redeliver(
        get_session(),
        subscription_id=subscription_id,
        delivery_id=delivery_id,
        client=_client(),
        actor=current_actor(),
    )


@blp.route("/deliveries")
@blp.response(200, DeliverySchema(many=True))
@require("audit:read")
@paged
def deliveries() -> Window:
    """The webhook and e-mail deliveries, newest first, with every attempt (no message contents)."""
    session = get_session()
    page, per_page = page_args()
    messages, total = page_of(session, notify.messages_query(), page=page, per_page=per_page)
    log = notify.attempts_for(session, [m.id for m in messages if m.id is not None])
    rows = [
        {**{k: getattr(m, k) for k in DeliverySchema().fields if k != "log"}, "log": log.get(m.id or 0, [])}
        for m in messages
    ]
    return Window(rows, total)
