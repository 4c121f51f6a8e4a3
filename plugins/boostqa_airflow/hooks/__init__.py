"""Hooks: the only place that reads Airflow connections; each returns one typed boostqa object."""
