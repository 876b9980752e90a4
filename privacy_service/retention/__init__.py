"""Retention: holds that protect data, and (issue 4) the rules and runs that delete on time."""

# Rows per transaction in the data system when a rule acts. Measured on PostgreSQL (bench_retention.py):
# each commit costs about 3 ms, and 25,000 rows are deleted in about 30 ms, so locks stay short.
BATCH = 25_000
