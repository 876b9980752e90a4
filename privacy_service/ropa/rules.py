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
