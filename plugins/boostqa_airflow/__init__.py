"""Airflow adapter of BoostQA: hooks own connections, operators are thin, assets and the dbt factory live here."""
