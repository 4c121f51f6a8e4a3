"""The 12 evaluation benchmarks: registry, production sources and our local editions, shared by QC and eval."""
