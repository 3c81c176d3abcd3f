"""Small request helpers shared by the simulator's blueprints (journal notes, merged parameters)."""

from __future__ import annotations

from flask import g, request


def note(operation: str, summary: str = "") -> None:
    """Name the current request's operation (and a one-line summary) for its journal entry."""
    g.journal_operation = operation
    if summary:
        g.journal_summary = summary


def note_orders(**keys: str | int) -> None:
    """Name the orders the current request is about (e.g. an Ecwid order's id, internalId and reference), so its
    journal entry links them and shows up when a scenario asks for any of them."""
    known: dict[str, str | int] = dict(g.get("journal_keys") or {})
    known.update(keys)
    g.journal_keys = known


def request_params() -> dict[str, str]:
    """Query string and form body merged (the form wins): the bank accepts both (protocols.md 2.2)."""
    params = dict(request.args.items())
    params.update(request.form.items())
    return params


def client_ip() -> str:
    return request.remote_addr or "127.0.0.1"
