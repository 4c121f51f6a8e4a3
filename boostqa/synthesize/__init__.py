"""Question synthesis (STEM multi-grade, high-difficulty), difficulty verification and answer refinement."""
