"""House rule 14: ``gateway.services.lifecycle`` (``transition`` for attempts, ``refund_transition`` for refunds) is
the only code that writes ``Attempt.status`` or ``Refund.status``.

Read from the source (AST), so a new code path that sets the status any other way fails here before it can
bypass the transition table, the compare-and-set, the event or the Ecwid projection.
"""

from __future__ import annotations

import ast
from pathlib import Path

GATEWAY = Path(__file__).resolve().parents[2] / "gateway"
WRITER = GATEWAY / "services" / "lifecycle.py"


_INITIAL_STATUS = {"Attempt": "REGISTERING.value", "Refund": "REQUESTED.value"}


def _status_writes(tree: ast.AST) -> list[int]:
    """Line numbers that write a ``status``: ``x.status = ...``, ``.values(status=...)``, ``update(...).values``
    with a ``status`` key, or ``Attempt(status=...)`` with anything but the initial ``registering``."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Attribute) and sub.attr == "status" and ast.unparse(sub.value) != "self":
                        lines.append(node.lineno)  # ``self.status`` is an exception's or a value object's own field
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            keywords = {k.arg for k in node.keywords}
            if name == "values" and ("status" in keywords or None in keywords):
                lines.append(node.lineno)
            if name in _INITIAL_STATUS:
                for keyword in node.keywords:
                    if keyword.arg == "status" and not ast.unparse(keyword.value).endswith(_INITIAL_STATUS[name]):
                        lines.append(node.lineno)
            if name in ("setattr",) and len(node.args) >= 2 and ast.unparse(node.args[1]) == "'status'":
                lines.append(node.lineno)
    return lines


def test_only_the_lifecycle_writer_changes_an_attempt_status() -> None:
    offenders = []
    for path in sorted(GATEWAY.rglob("*.py")):
        if path == WRITER or "migrations" in path.parts:
            continue
        for line in _status_writes(ast.parse(path.read_text(encoding="utf-8"))):
            offenders.append(f"{path.relative_to(GATEWAY.parent)}:{line}")
    assert offenders == [], "Attempt.status written outside lifecycle.transition: " + ", ".join(offenders)


def test_the_detector_finds_each_way_of_writing_a_status() -> None:
    # The test above is only as good as this detector: each form below must be caught.
    samples = [
        "attempt.status = 'paid'",
        "session.execute(update(Attempt).values(status='paid'))",
        "session.execute(update(Attempt).values(**changes))",
        "Attempt(status=AttemptStatus.PAID.value)",
        "setattr(attempt, 'status', 'paid')",
        "Refund(status=RefundStatus.COMPLETED.value)",
    ]
    for sample in samples:
        assert _status_writes(ast.parse(sample)), sample
    assert _status_writes(ast.parse("Attempt(status=AttemptStatus.REGISTERING.value)")) == []
    assert _status_writes(ast.parse("Refund(status=RefundStatus.REQUESTED.value)")) == []
    assert _status_writes(ast.parse("message.state = 'sent'")) == []


def test_the_writer_itself_writes_the_status() -> None:
    assert _status_writes(ast.parse(WRITER.read_text(encoding="utf-8")))
