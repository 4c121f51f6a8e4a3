"""The HTML report built from the warehouse marts (the report operator and `boostqa report` render it)."""
