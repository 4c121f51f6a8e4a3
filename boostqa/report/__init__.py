"""Operator-facing summaries and reports built from the warehouse marts."""
