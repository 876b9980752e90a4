"""Words the subject's pages show: why a login was refused, assurance levels, provider names and how an
identifier of hers was proved."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

# One sentence per refusal reason (service.LoginRefused.reason). None of them repeats what the provider sent.
REFUSALS = {
    "state": _l(
        "The login could not be matched to this browser, or it took too long. Start the login again."
    ),
    "cancelled": _l("The login was cancelled. You can start it again."),
    "provider_error": _l("The identity provider did not complete the login. Start the login again."),
    "token_request": _l("The identity provider did not confirm the login. Start the login again."),
    "signature": _l(
        "The answer from the identity provider was not signed with its key, so we cannot trust it."
    ),
    "token": _l("The answer from the identity provider could not be read."),
    "issuer": _l("The answer came from another identity provider than the one this service uses."),
    "audience": _l("The answer from the identity provider was meant for another service."),
    "nonce": _l(
        "The answer from the identity provider does not belong to this login. Start the login again."
    ),
    "expired": _l("The answer from the identity provider has expired. Start the login again."),
    "acr": _l(
        "This service needs a higher security level than the one you logged in with. Log in again with "
        "MinID with a one-time code, BankID, Buypass or Commfides."
    ),
    "pid": _l("The identity provider did not tell us your national identity number."),
}

ASSURANCE_LEVELS = {
    "idporten-loa-low": _l("low"),
    "idporten-loa-substantial": _l("substantial"),
    "idporten-loa-high": _l("high"),
}

PROVIDER_NAMES = {"idporten": "ID-porten", "helseid": "HelseID"}


# How an identifier was proved (dsar.models.VERIFICATION_METHODS), as the end of "kari@example.no: …"
PROOFS = {
    "email_code": _l("confirmed with a code sent to the address"),
    "idporten": _l("confirmed with ID-porten"),
    "helseid": _l("confirmed with HelseID"),
    "portal_verified": _l("confirmed by a service you logged in to"),
    "officer": _l("confirmed by our staff"),
}


def proof_text(verified_by: str | None, portal: str | None = None) -> str:
    """Return how an identifier was proved in words; a portal that proved it is named by its client name."""
    if verified_by is None:
        return _("not confirmed, so we do not use it to find you or your consents")
    if verified_by == "portal_verified" and portal:
        return _("confirmed by the service %(service)s", service=portal)
    return str(PROOFS.get(verified_by, _("confirmed")))


def refusal_text(reason: str) -> str:
    """Return the sentence that explains a refused login."""
    return str(REFUSALS.get(reason, REFUSALS["token"]))


def assurance_text(acr: str) -> str:
    """Return an assurance level in words, with the provider's own value beside it."""
    words = ASSURANCE_LEVELS.get(acr)
    return f"{words} ({acr})" if words else acr
