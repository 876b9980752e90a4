"""What the request pages call the rights, statuses, timeline steps and outcomes, in the reader's language."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from privacy_service.datamap.labels import ERASURE_STRATEGIES, identity_kind
from privacy_service.retention.labels import HOLD_KINDS as HOLD_KINDS  # the pages of both name holds alike

RIGHTS: dict[str, tuple[Any, Any]] = {
    "access": (
        _l("See what we hold about you"),
        _l(
            "You get a copy of your data, what we use it for, where it comes from, who gets it and how "
            "long we keep it."
        ),
    ),
    "rectification": (
        _l("Correct something that is wrong"),
        _l(
            "Tell us which information is wrong and what is right. We correct it and tell those we shared "
            "it with."
        ),
    ),
    "erasure": (
        _l("Delete your data"),
        _l(
            "We delete what we no longer need or may not keep. What the law says we must keep (such as "
            "archived case files) stays, and we tell you why."
        ),
    ),
    "restriction": (
        _l("Pause the use of your data"),
        _l(
            "We keep your data but stop using it while something is checked, for example whether it is "
            "correct."
        ),
    ),
    "objection": (
        _l("Object to how we use your data"),
        _l(
            "If we use your data for a public task or our legitimate interests, you can ask us to stop. "
            "Tell us why."
        ),
    ),
    "portability": (
        _l("Get your data in a file"),
        _l(
            "Data you gave us yourself, by consent or agreement, in a file (JSON and CSV) you can take "
            "elsewhere."
        ),
    ),
    "consent_withdrawal": (
        _l("Withdraw a consent"),
        _l("Stop something you agreed to, such as a survey. It is as easy as giving consent."),
    ),
}
# The rights by their names, for officers' lists, charts and reports (RIGHTS above speaks to the subject)
RIGHT_NAMES = {
    "access": _l("Access"),
    "rectification": _l("Rectification"),
    "erasure": _l("Erasure"),
    "restriction": _l("Restriction of processing"),
    "objection": _l("Objection"),
    "portability": _l("Data portability"),
    "consent_withdrawal": _l("Withdrawal of consent"),
}
# How a table's rows are erased, as the data map says
ERASURE_STRATEGY_LABELS = ERASURE_STRATEGIES
# How a request reached us, in the officer's words
CHANNEL_LABELS = {
    "web": _l("Web form"),
    "api": _l("API"),
    "portal": _l("Portal"),
    "letter": _l("Letter"),
    "phone": _l("Phone"),
    "email": _l("E-mail"),
    "in_person": _l("In person"),
}
# A request's status as the officer reads it (STATUS_LABELS below speaks to the subject)
OFFICER_STATUS_LABELS = {
    "received": _l("Received"),
    "awaiting_identity": _l("Waiting for the subject to confirm"),
    "in_progress": _l("Being handled"),
    "awaiting_decision": _l("Waiting for a decision"),
    "completed": _l("Answered"),
    "rejected": _l("Rejected"),
    "withdrawn": _l("Withdrawn"),
}
STATUS_LABELS = {
    "received": _l("Received"),
    "awaiting_identity": _l("Waiting for you to confirm"),
    "in_progress": _l("Being handled"),
    "awaiting_decision": _l("Waiting for a decision"),
    "completed": _l("Answered"),
    "rejected": _l("Rejected"),
    "withdrawn": _l("Withdrawn"),
}
EVENT_LABELS = {
    "received": _l("We received the request"),
    "identity_requested": _l("We sent you an e-mail to confirm the request"),
    "identity_verified": _l("Your identity was confirmed"),
    "extended": _l("We extended the deadline"),
    "rejected": _l("The request was rejected"),
    "closed_unverified": _l("The request was closed because it was not confirmed"),
    "withdrawn": _l("The request was withdrawn"),
    "completed": _l("We answered the request"),
    "drafted": _l("We made a draft answer"),
    "planned": _l("We checked where your data is and which rules apply"),
    "approved": _l("We decided and carried out the request"),
    "recipients_told": _l("We told those who process the data for us"),
    "identity_attempt_failed": _l("A wrong confirmation code was entered"),
    "identity_locked": _l("Too many wrong codes: only an officer can verify now"),
    "decided": _l("An officer decided per activity"),
    "checked_by_hand": _l("An officer recorded a search by hand"),
    "withheld": _l("An officer withheld data from the answer"),
    "withholding_removed": _l("An officer put withheld data back into the answer"),
    "appeal_received": _l("We received your appeal"),
    "appeal_prepared": _l("We prepared your appeal"),
    "appeal_sent": _l("We sent your appeal to the appeal body"),
    "appeal_decided": _l("Your appeal was decided"),
    "recipients_pending": _l("Some recipients have no contact address: an officer decides"),
    "recipients_not_told": _l("An officer recorded why some recipients are not told"),
    "restriction_lift_notified": _l("We told you that the restriction will be lifted"),
    "restriction_lifted": _l("The restriction was lifted"),
    "erasure_retried": _l("Data that was kept has now been erased"),
}
# The same steps as the officer reads them on the request's timeline: about the subject, not to her, and the
# steps she never sees (the draft, the reminders, the ledger entry, a lost link sent again).
OFFICER_EVENT_LABELS = {
    "received": _l("Request received"),
    "identity_requested": _l("Mail sent to the subject to confirm the request"),
    "identity_verified": _l("Identity confirmed"),
    "extended": _l("Deadline extended"),
    "rejected": _l("Request rejected"),
    "closed_unverified": _l("Closed: the identity was never confirmed"),
    "withdrawn": _l("Withdrawn by the subject"),
    "completed": _l("Answer sent to the subject"),
    "drafted": _l("Draft answer made"),
    "planned": _l("Plan made: where the subject's data is and which rules apply"),
    "approved": _l("Plan approved and carried out"),
    "recipients_told": _l("Recipients told (Art. 19)"),
    "identity_attempt_failed": _l("A wrong confirmation code was entered"),
    "identity_locked": _l("Too many wrong codes: only an officer can verify now"),
    "decided": _l("Decided per activity"),
    "checked_by_hand": _l("Search by hand recorded"),
    "withheld": _l("Data withheld from the answer"),
    "withholding_removed": _l("Withheld data put back into the answer"),
    "appeal_received": _l("Appeal received"),
    "appeal_prepared": _l("Appeal prepared"),
    "appeal_sent": _l("Appeal sent to the appeal body"),
    "appeal_decided": _l("Appeal decided"),
    "recipients_pending": _l("Some recipients have no contact address: decide how they are told"),
    "recipients_not_told": _l("Recorded why some recipients are not told"),
    "restriction_lift_notified": _l("Subject told that the restriction will be lifted"),
    "restriction_lifted": _l("Restriction lifted"),
    "erasure_retried": _l("Data a hold kept has now been erased"),
    "erasure_recorded": _l("Erasure entered in the ledger for restores"),
    "person_link_refused": _l(
        "The proved identifiers were not linked as one person: they already belong to two different "
        "national identity numbers"
    ),
    "person_forgotten": _l(
        "The subject's linked identifiers and portal links were removed after the erasure"
    ),
    "link_sent": _l("The subject asked for her link again; it was sent"),
    "reminder": _l("Deadline reminder sent to the privacy team"),
    "opendsr_queued": _l("OpenDSR requests queued for the processors"),
    "opendsr_received": _l("A processor confirmed that it received the OpenDSR request"),
    "opendsr_status": _l("A processor reported the status of the OpenDSR request"),
}
# The status a processor reported of the OpenDSR request we sent it (OpenDSR 2.0 § 8)
OPENDSR_STATUS_LABELS = {
    "queued": _l("Not yet received by the processor"),
    "pending": _l("Received by the processor"),
    "in_progress": _l("Being handled by the processor"),
    "completed": _l("Completed by the processor"),
    "cancelled": _l("Cancelled by the processor"),
    "failed": _l("Could not be sent: the processor never confirmed it"),
}
OPENDSR_TYPE_LABELS = {
    "erasure": _l("Erasure"),
    "access": _l("Access"),
    "portability": _l("Portability"),
}
APPEAL_STATUS_LABELS = {
    "received": _l("Received"),
    "prepared": _l("Prepared"),
    "sent_to_appeal_body": _l("Sent to the appeal body"),
    "decided": _l("Decided"),
}
APPEAL_OUTCOME_LABELS = {
    "upheld": _l("The refusal stands"),
    "reversed": _l("Reversed"),
    "partly": _l("Partly reversed"),
}
OUTCOME_LABELS = {
    "pending": _l("Not finished"),
    "done": _l("Done"),
    "partial": _l("Partly done"),
    "refused": _l("Refused"),
    "not_applicable": _l("The right does not apply"),
    "no_data": _l("We hold no data"),
    "not_checked": _l("Not yet checked"),
    "forwarded": _l("Sent on to another controller"),
}
DECISION_LABELS = {
    "uphold": _l("Uphold"),
    "refuse": _l("Refuse"),
}
MANUAL_LABELS = {
    "found_handled": _l("Searched: found records and handled them"),
    "none_found": _l("Searched: none found"),
    "sent_to_controller": _l("Sent to another controller"),
}
IDENTIFIER_LABELS = {
    "email": _l("E-mail address"),
    "national_id": _l("National identity number"),
}
LINKED = "linked:"  # plan.LINKED: an identifier the person's verified links brought, not the request


def identifier_label(kind: str) -> str:
    """An identifier kind in the reader's words: "E-mail address", "User id at portal-x (linked)"."""
    if kind.startswith(LINKED):
        return str(_l("%(identifier)s (linked)", identifier=identifier_label(kind[len(LINKED) :])))
    return str(IDENTIFIER_LABELS[kind]) if kind in IDENTIFIER_LABELS else identity_kind(kind)


METHOD_LABELS = {
    "email_code": _l("confirmed from the mailbox (link or code)"),
    "idporten": _l("logged in with ID-porten"),
    "helseid": _l("logged in with HelseID"),
    "portal_verified": _l("vouched for by a portal whose user logged in"),
    "officer": _l("checked by an officer against a document"),
}
IDENTITY_LABELS = {
    "unverified": _l("Not verified"),
    "pending": _l("Waiting for the e-mail confirmation"),
    "verified": _l("Verified"),
}
RECIPIENT_STATES = {
    "told": _l("Told"),
    "not_told": _l("Not told"),
    "pending": _l("Not told yet: no contact address"),
}
RECIPIENT_KINDS = {
    "processor": _l("Processor"),
    "sub_processor": _l("Sub-processor"),
    "recipient": _l("Recipient"),
}
NOT_TOLD_LABELS = {  # Art. 19
    "impossible": _l("Impossible"),
    "disproportionate_effort": _l("Disproportionate effort"),
}
RETRY_STATES = {
    "waiting": _l("Waiting: the hold is active"),
    "queued": _l("The hold has ended: erasure queued"),
    "retried": _l("Erased after the hold was released"),
}
