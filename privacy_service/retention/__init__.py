"""Retention: holds that protect data, and (issue 4) the rules and runs that delete on time."""
