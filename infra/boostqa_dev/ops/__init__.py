"""``boostqa ops``: deployment chores (pool import file, lake initialisation, read-only SQL)."""
