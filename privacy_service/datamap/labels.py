"""What the data map's pages call identity kinds and erasure strategies, in the reader's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

IDENTITY_KINDS = {
    "email": _l("E-mail address"),
    "national_id": _l("National identity number"),
    "phone": _l("Phone number"),
    "account_id": _l("Account number"),
}
ERASURE_STRATEGIES = {"delete": _l("the rows are deleted"), "mask": _l("the columns are blanked")}
