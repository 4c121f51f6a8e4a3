"""The fault harness behind `make faults`: injectors that break the embedded stack on purpose."""
