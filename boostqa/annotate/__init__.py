"""Discipline x difficulty annotation: taxonomy access and the annotation task (prompt + schema + parse)."""
