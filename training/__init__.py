"""Mid-training package run by the DeepSpeed launcher; talks to the pipeline only through files (issue 6)."""
