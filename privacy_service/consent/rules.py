"""Which purposes accept consent, and how consent statuses map to the W3C DPV terms."""

from __future__ import annotations

import re

from privacy_service.errors import N_, ValidationFailed

STATUSES = ("given", "withdrawn")
CHANNELS = ("web", "app", "email", "api", "paper", "phone", "in_person")
# Every status but `allowed` means "do not process": a client that checks only `status` cannot misread one.
PROCESSING_STATUSES = (
    "allowed",
    "no_consent",
    "consent_withdrawn",
    "renewal_required",
    "restricted",
    "objected",
)
FLAG_KINDS = ("restricted", "objected")

# DPV consent status terms (https://w3id.org/dpv#ConsentStatus)
DPV_GIVEN = "dpv:ConsentGiven"
DPV_RENEWED = "dpv:RenewedConsentGiven"
DPV_WITHDRAWN = "dpv:ConsentWithdrawn"

NATIONAL_ID = re.compile(r"^\d{6}\s?\d{5}$")
SUBJECT = re.compile(r"^[^\s/\\]{1,254}$")


def consent_refusal(*, legal_basis: str, activity_status: str, status: str) -> str | None:
    """Why a consent change to an activity is refused, or None when it is accepted.

    Consent can only be recorded for an activity whose legal basis is consent (Art. 6(1)(a)); it can be given
    only while the activity is active, but a withdrawal is always accepted (Art. 7(3)).
    """
    if legal_basis != "6(1)(a)":
        return (
            f"This activity's legal basis is Art. {legal_basis}, not consent: "
            "its processing does not depend on consent."
        )
    if status == "given" and activity_status != "active":
        return f"The activity is {activity_status}: consent can be given only to an active activity."
    return None


def processing_answer(
    *, legal_basis: str | None, flags: set[str], state_status: str | None, renewal_required: bool
) -> tuple[str, bool]:
    """May a subject's data be processed in an activity: (status, renewal_required).

    An upheld objection wins over a restriction, which wins over consent; an activity not based on consent is
    allowed unless flagged. A consent given before a notice version that asks for renewal is
    `renewal_required`: not `allowed`, so that a client reading only `status` stops until the subject consents
    again (the boolean says the same, for clients that read it). The Flask view and the hot path both decide
    with this, so they cannot drift apart.
    """
    if "objected" in flags:
        return "objected", False
    if "restricted" in flags:
        return "restricted", False
    if legal_basis != "6(1)(a)":
        return "allowed", False
    if state_status is None:
        return "no_consent", False
    if state_status == "withdrawn":
        return "consent_withdrawn", False
    if renewal_required:
        return "renewal_required", True
    return "allowed", False


def dpv_status(status: str, *, given_before: bool) -> str:
    """The DPV consent status of a new event."""
    if status == "withdrawn":
        return DPV_WITHDRAWN
    return DPV_RENEWED if given_before else DPV_GIVEN


def normalise_subject(subject: str) -> str:
    """The canonical form of a subject identifier: trimmed, e-mail addresses lower-cased."""
    subject = subject.strip()
    return subject.lower() if "@" in subject else subject


def check_subject(subject: str) -> str:
    """Return the canonical subject identifier, or raise ValidationFailed."""
    canonical = normalise_subject(subject or "")
    problem = subject_problem(canonical)
    if problem:
        raise ValidationFailed(N_("The subject identifier is not accepted."), fields={"subject": [problem]})
    return canonical


def subject_problem(subject: str) -> str | None:
    """Why a subject identifier is refused, or None. A national identity number is never a subject here."""
    if not SUBJECT.match(subject):
        return N_(
            "A subject is a pseudonymous portal id or an e-mail address (1–254 characters, no spaces or '/')."
        )
    if NATIONAL_ID.match(subject):
        return N_(
            "A national identity number cannot be a consent subject or appear in a URL; "
            "use the portal's pseudonymous id or the e-mail address."
        )
    return None
