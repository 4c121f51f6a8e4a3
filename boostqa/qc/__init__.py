"""Quality control of synthesized items: filters, benchmark decontamination, exact and near-duplicate removal."""
