"""Whether a right applies to an activity, and what the plan says for it (DESIGN.md §3).

The registry's rights (ropa's Activity.rights: Art. 15–22 and 7(3) from the legal basis) are refined by the
exceptions a request meets: an archive preservation duty and a legal obligation to keep (Art. 17(3)(b),
(d)) against erasure, under any of the activity's legal bases (the rights follow the most restrictive). The
Personal Data Act § 17 limit for archiving, research and statistics is the registry's (Right.limit): the right
applies and the officer may refuse it on that ground. Then the data decide: no rows is `no_data`; rows under a
hold are not erased (`refused` or `partial`, naming the hold).
"""

from __future__ import annotations

from dataclasses import dataclass

from privacy_service.ropa.service import Activity

# outcomes, as the API reports them (DESIGN.md §5)
# not_checked: outside the data map and not yet searched by hand; forwarded: sent on to another controller
OUTCOMES = ("pending", "done", "partial", "refused", "not_applicable", "no_data", "not_checked", "forwarded")
ACTING_RIGHTS = ("rectification", "erasure", "restriction", "objection")  # these change data: Art. 19 applies


@dataclass(frozen=True)
class Decision:
    """Whether a right applies to an activity, under which article, and why (English; letters translate)."""

    applies: bool
    article: str
    reason: str
    refusal: bool = False  # the right exists but an exception overrides it (refused, not "not applicable")


def decide(right: str, activity: Activity) -> Decision:
    """The legal decision for one right and one activity, before looking at any data."""
    bases = activity.legal_bases
    found = activity.right(right)
    if not found.applies:
        return Decision(False, found.article, found.reason)
    if right == "erasure" and activity.preserved:
        return Decision(
            False,
            "Art. 17(3)(d)",
            "The records are archive-worthy (Noark 5 disposal decision: Bevares) and are kept for the "
            "archive in the public interest (Archives Act § 6).",
            refusal=True,
        )
    if right == "erasure" and "6(1)(c)" in bases:
        retention = activity.retention.text.get("en") or "the retention period"
        return Decision(
            False,
            "Art. 17(3)(b)",
            f"A legal obligation requires the data to be kept ({retention}).",
            refusal=True,
        )
    if right == "erasure" and "6(1)(e)" in bases:
        return Decision(
            True,
            "Art. 17(1)(a), 17(3)(b)",
            "Data no longer needed for the public task is erased; what the task still needs is kept. "
            "The officer decides from the preview.",
        )
    return Decision(True, found.article, found.reason)


def outcome(
    decision: Decision, *, mapped: bool, rows: int, held: int, right: str, consented: bool = False
) -> str:
    """The planned outcome for an activity, from the decision and what the data map found. A withdrawal of
    consent to an activity she has consented to is never no_data: the consent itself is withdrawn."""
    if mapped and rows == 0 and not (right == "consent_withdrawal" and consented):
        return "no_data"
    if not decision.applies:
        return "refused" if decision.refusal else "not_applicable"
    if right == "erasure" and rows and held:
        return "refused" if held >= rows else "partial"
    return "pending"
