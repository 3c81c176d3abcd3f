"""Step definitions: mobile (being written)."""
