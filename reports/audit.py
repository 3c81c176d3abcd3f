"""The gateway's configuration audit (RC-30) as the target carries it, typed for the report and the verdict.

Role: read ``target["configuration_audit"]``: the gateway's ``AuditReport.as_dict()`` (``{"ready": bool,
"findings": [{"check", "title", "result": "PASS"|"WARN"|"FAIL", "detail"}]}``) plus two keys saying whether the
verdict counts it::

    {"ready": false, "findings": [...], "counts": true}                      # REAL configuration: a FAIL is NO-GO
    {"ready": false, "findings": [...], "counts": false,
     "reason": "the lab's TEST configuration: TEST URLs are expected"}       # shown, marked as not counted

Only ``counts: true`` makes the audit part of the verdict (rule V-05); an audit without ``counts`` is shown as not
counted, and says so. This module knows the shape, never how the audit was made (no ``gateway`` import).

Guarantees: a malformed audit is a ``TargetError`` naming the bad field, never silently dropped; ``ready`` is
re-derived from the findings (ready only when no finding FAILs) and a contradiction is an error too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from reports.errors import TargetError

AUDIT_KEY = "configuration_audit"
RESULTS = ("PASS", "WARN", "FAIL")
NOT_MARKED = "the target does not mark this audit as counting (counts is not true)"


@dataclass(frozen=True, slots=True)
class AuditFinding:
    check: str
    title: str
    result: str  # PASS | WARN | FAIL
    detail: str


@dataclass(frozen=True, slots=True)
class ConfigurationAudit:
    """The audit's findings, whether it is ready, whether the verdict counts it and, when not, why."""

    ready: bool
    findings: tuple[AuditFinding, ...]
    counts: bool
    reason: str | None = None

    @property
    def failed(self) -> tuple[AuditFinding, ...]:
        return tuple(f for f in self.findings if f.result == "FAIL")

    @property
    def warned(self) -> tuple[AuditFinding, ...]:
        return tuple(f for f in self.findings if f.result == "WARN")


def _text(raw: Mapping[str, object], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str):
        raise TargetError(f"{where}.{key}: expected a string")
    return value


def parse_audit(raw: object, *, where: str = f"target.{AUDIT_KEY}") -> ConfigurationAudit:
    """The typed audit; ``TargetError`` for anything that is not the documented shape."""
    if not isinstance(raw, Mapping):
        raise TargetError(f"{where}: expected an object")
    findings_raw = raw.get("findings")
    if not isinstance(findings_raw, list):
        raise TargetError(f"{where}.findings: expected a list")
    findings: list[AuditFinding] = []
    for index, entry in enumerate(findings_raw):
        at = f"{where}.findings[{index}]"
        if not isinstance(entry, Mapping):
            raise TargetError(f"{at}: expected an object")
        result = _text(entry, "result", at)
        if result not in RESULTS:
            raise TargetError(f"{at}.result: expected PASS, WARN or FAIL, got {result!r}")
        findings.append(
            AuditFinding(
                check=_text(entry, "check", at),
                title=_text(entry, "title", at),
                result=result,
                detail=_text(entry, "detail", at),
            )
        )
    ready = all(f.result != "FAIL" for f in findings)
    stated = raw.get("ready")
    if stated is not None and stated is not ready:
        raise TargetError(f"{where}.ready: says {stated!r} but the findings say {ready!r}")
    counts = raw.get("counts")
    if counts is not None and not isinstance(counts, bool):
        raise TargetError(f"{where}.counts: expected true or false")
    reason = raw.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise TargetError(f"{where}.reason: expected a string")
    if counts is True:
        return ConfigurationAudit(ready=ready, findings=tuple(findings), counts=True, reason=None)
    return ConfigurationAudit(ready=ready, findings=tuple(findings), counts=False, reason=reason or NOT_MARKED)


def audit_of(target: Mapping[str, object]) -> ConfigurationAudit | None:
    """The audit the target carries, or None."""
    if AUDIT_KEY not in target or target[AUDIT_KEY] is None:
        return None
    return parse_audit(target[AUDIT_KEY])
