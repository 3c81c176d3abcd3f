"""Scenario control: control API, virtual clock, request journal."""
