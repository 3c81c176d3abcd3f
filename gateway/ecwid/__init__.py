"""Ecwid: the encrypted payment request (in) and the REST orders API (out)."""
