"""The dev stack: the embedded services, the ``boostqa`` command line and the demo, run from a checkout."""
