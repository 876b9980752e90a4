"""Where each activity's data lives: data systems, table maps and the set-based SQL connector."""
