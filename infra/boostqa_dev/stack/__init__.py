"""The embedded stack: SeaweedFS, the Airflow home, the warehouse path and (later) the local LLM server."""
