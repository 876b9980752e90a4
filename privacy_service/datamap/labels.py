"""What the data map's pages call identity kinds and erasure strategies, in the reader's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

IDENTITY_KINDS = {
    "email": _l("E-mail address"),
    "national_id": _l("National identity number"),
    "phone": _l("Phone number"),
    "account_id": _l("Account number"),
}
PORTAL = "portal:"  # a portal's own user id column: portal:<the API client's name>


def identity_kind(kind: str) -> str:
    """An identity kind in the reader's words; a portal's user id column names the portal."""
    if kind.startswith(PORTAL):
        return str(_l("User id at %(client)s", client=kind[len(PORTAL) :]))
    return str(IDENTITY_KINDS.get(kind, kind))


ERASURE_STRATEGIES = {"delete": _l("the rows are deleted"), "mask": _l("the columns are blanked")}
