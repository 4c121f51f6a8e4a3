"""Seed ingestion: source configuration, readers per kind and format, validation, normalization, quarantine."""
