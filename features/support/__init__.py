"""Test-side helpers for the feature suite: talking to the simulator's control API, building Ecwid requests."""
