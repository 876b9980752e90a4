"""Words the subject's pages show: why a login was refused, assurance levels and provider names."""

from __future__ import annotations

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


def refusal_text(reason: str) -> str:
    """Return the sentence that explains a refused login."""
    return str(REFUSALS.get(reason, REFUSALS["token"]))


def assurance_text(acr: str) -> str:
    """Return an assurance level in words, with the provider's own value beside it."""
    words = ASSURANCE_LEVELS.get(acr)
    return f"{words} ({acr})" if words else acr
