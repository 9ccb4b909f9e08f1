"""Rate schedules, work records and compensation runs (RULES.md §3)."""
