"""BoostQA Warehouse core library: records, steps and I/O with no orchestration or GPU dependencies."""

__version__ = "0.1.0"
