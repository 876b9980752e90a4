"""Consent's entry points for the outbox: the erasure a withdrawal queues when the activity says
`on_withdrawal: erase`. The app factory registers them (privacy_service/__init__.py); importing this module
registers nothing."""

from __future__ import annotations

from privacy_service.consent.service import ERASE_TASK, erase_after_withdrawal

TASKS = {ERASE_TASK: erase_after_withdrawal}
