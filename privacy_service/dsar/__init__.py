"""Data-subject requests: intake, identity, deadlines, the rights, answers."""
