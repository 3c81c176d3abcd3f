"""Shared step definitions for every feature (one module, per house rule 9)."""
