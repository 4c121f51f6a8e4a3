"""Launch the trainer where it runs: a local subprocess (embedded), a Kubernetes job, a Slurm batch job."""
