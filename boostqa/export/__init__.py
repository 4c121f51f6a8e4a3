"""Mixture export: HF-compatible parquet shards with a dataset card, tokenized packed sequences, a manifest."""
