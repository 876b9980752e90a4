"""The fixed code lists and legal rules of the registry (GDPR Art. 6, 9, 15–22; Noark 5)."""

from __future__ import annotations

ORG_ROLES = ("controller", "joint_controller", "processor", "sub_processor", "supervisory_authority")
PROCESSOR_ROLES = ("processor", "sub_processor")
STATUSES = ("draft", "active", "retired")
SAFEGUARDS = ("adequacy", "scc", "bcr", "derogation", "none")
DISPOSAL_DECISIONS = ("Bevares", "Kasseres", "Vurderes senere")  # Noark 5 M450 kassasjonsvedtak
_ACTIONS = {
    "en": {"delete": "delete", "anonymise": "anonymise", "deposit": "deposit with the archive"},
    "nb": {"delete": "slett", "anonymise": "anonymiser", "deposit": "avlever til arkiv"},
}


def retention_rule_text(rule: dict, lang: str = "en") -> str:
    """A machine retention rule in words: "delete portal.accounts: P3M after last_login_at"."""
    action = _ACTIONS.get(lang, _ACTIONS["en"]).get(rule.get("action", ""), rule.get("action", ""))
    after = "etter" if lang == "nb" else "after"
    anchor = rule.get("anchor") or ("ankerkolonnen" if lang == "nb" else "the anchor column")
    return f"{action} {rule.get('system')}.{rule.get('table')}: {rule.get('period')} {after} {anchor}"
