"""Text reports of the command line and the demo: the warehouse summary, results tables, one row per day."""
