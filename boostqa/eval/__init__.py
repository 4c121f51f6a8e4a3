"""Benchmark evaluation: our local editions' prompts, the model-side requests, scoring and the eval stage."""
