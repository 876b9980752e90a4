"""Consent records, the status API for portal services, receipts and one-click withdrawal."""

from privacy_service.consent import effects as _effects  # noqa: F401 - registers the withdrawal tasks
