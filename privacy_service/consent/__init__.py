"""Consent records, the status API for portal services, receipts and one-click withdrawal."""
