"""Research studies on the corpus: scaling sweeps and anneal probes, trained through the training launcher."""
