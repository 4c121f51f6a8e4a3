"""Stage jobs for the Ray cluster: what Airflow submits, how a job is described, and the driver that runs it."""
