"""Triggers: long waits run in the triggerer, not in a worker slot."""
