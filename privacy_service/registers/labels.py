"""What people read instead of the register's stored values: labels in bokmål and English, by stable id."""

from __future__ import annotations

LABELS: dict[str, dict[str, dict[str, str]]] = {
    "processor_status": {
        "active": {"nb": "Aktiv", "en": "Active"},
        "ended": {"nb": "Avsluttet", "en": "Ended"},
    },
    "risk": {
        "no_risk": {"nb": "Ingen risiko", "en": "No risk"},
        "risk": {"nb": "Risiko", "en": "Risk"},
        "high_risk": {"nb": "Høy risiko", "en": "High risk"},
    },
    "status": {
        "open": {"nb": "Åpent", "en": "Open"},
        "assessed": {"nb": "Vurdert", "en": "Assessed"},
        "notified": {"nb": "Meldt til Datatilsynet", "en": "Notified to Datatilsynet"},
        "closed": {"nb": "Lukket", "en": "Closed"},
    },
    "not_required": {
        "34(3)(a)": {
            "nb": "Art. 34 nr. 3 bokstav a: opplysningene var beskyttet, f.eks. kryptert",
            "en": "Art. 34(3)(a): the data was protected, e.g. encrypted",
        },
        "34(3)(b)": {
            "nb": "Art. 34 nr. 3 bokstav b: senere tiltak gjør at den høye risikoen ikke lenger er "
            "sannsynlig",
            "en": "Art. 34(3)(b): later measures make the high risk no longer likely",
        },
        "34(3)(c)": {
            "nb": "Art. 34 nr. 3 bokstav c: det krever uforholdsmessig stor innsats; offentlig kunngjøring "
            "i stedet",
            "en": "Art. 34(3)(c): it would involve disproportionate effort; a public communication instead",
        },
    },
}


def label(kind: str, value: str, lang: str) -> str:
    """The label of a stored value in the language (bokmål unless English is asked for)."""
    entry = LABELS[kind].get(value)
    if entry is None:
        return value
    return entry["en"] if lang == "en" else entry["nb"]
