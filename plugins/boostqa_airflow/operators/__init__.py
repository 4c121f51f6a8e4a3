"""Thin operators: validate params, call one boostqa function, return a small JSON result."""
