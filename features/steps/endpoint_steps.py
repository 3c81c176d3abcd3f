"""Step definitions: endpoint (being written)."""
