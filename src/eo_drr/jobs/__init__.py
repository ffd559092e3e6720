"""Jobs layer: resolving a job's inputs and where its computation runs."""
