"""The registry's fixed code lists: organisation roles, record statuses, transfer safeguards (Art. 44–49), the
Noark 5 disposal decisions, and what a machine retention rule may do and when it runs by default."""

from __future__ import annotations

ORG_ROLES = ("controller", "joint_controller", "processor", "sub_processor", "supervisory_authority")
PROCESSOR_ROLES = ("processor", "sub_processor")
STATUSES = ("draft", "active", "retired")
SAFEGUARDS = ("adequacy", "scc", "bcr", "derogation", "none")
DISPOSAL_DECISIONS = ("Bevares", "Kasseres", "Vurderes senere")  # Noark 5 M450 kassasjonsvedtak
RULE_ACTIONS = ("delete", "anonymise", "deposit")
DEFAULT_SCHEDULE = "30 2 * * *"  # every night at 02:30 (Europe/Oslo)
# The purpose categories of the Kantara Consent Receipt Specification v1.1 (its appendix's purpose list, by
# short code and in its order); "Core Function" is the specification's default purpose. A consent receipt's
# purposeCategory takes its values from this list.
KANTARA_PURPOSE_CATEGORIES = (
    "Core Function",
    "Contracted Service",
    "Delivery",
    "Contact Requested",
    "Personalized Experience",
    "Marketing",
    "Marketing Third Parties",
    "Sharing for Delivery",
    "Sharing for Marketing",
    "3rd Party Sharing for Core Function",
    "3rd Party Sharing for ...",
    "Legally Required Data Retention",
    "Required by Law Enforcement or Government",
    "Protecting Your Health",
    "Protecting Our Interests",
    "Improve Performance",
)
DEFAULT_PURPOSE_CATEGORY = "Core Function"
