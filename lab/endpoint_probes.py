"""Probes of the merchant's REAL endpoints before the switch (readiness items RC-34 and RC-35): the shared part.

Two probes, each in its own module, both read-only and usable against a real deployment as well as the local lab:

- ``lab.callback_probe``: the gateway's callback URL as the bank will call it (RC-34), findings ``CB-01``..``CB-06``;
- ``lab.bank_parity_probe``: the REAL bank with the REAL credentials, compared with TEST (RC-35), ``BK-01``..``BK-06``.

A probe returns a ``ProbeReport``: findings with a stable id, a status and a human detail, plus what the probe
cannot show at all (its limits). Statuses::

    PASS            shown to work
    WARN            works, but something to fix soon (a certificate close to its end, a slow answer)
    FAIL            shown not to work
    NOT APPLICABLE  cannot apply to this target by nature (plain HTTP on a loopback address: the local lab)
    NOT CHECKED     could apply, but the probe could not show it (no key given, no answer, no TEST reference)

Verdict: NOT READY when any finding FAILs; READY only when every finding is PASS or WARN; otherwise INCOMPLETE
(nothing failed, but something was not shown: the lab is always INCOMPLETE, since it has no HTTPS and no REAL bank).

Details never hold a secret: no key, no password, no query string of a URL (``public_url``); the CLI passes every
line through ``redactor`` as well.
"""

from __future__ import annotations

import ipaddress
import json
import re
import ssl
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

import httpx


class Status(StrEnum):
    PASS = "PASS"  # noqa: S105 - a status, not a password
    WARN = "WARN"
    FAIL = "FAIL"
    NOT_APPLICABLE = "NOT APPLICABLE"
    NOT_CHECKED = "NOT CHECKED"


# Which status wins when one finding sums up several observations.
_SEVERITY = {Status.PASS: 0, Status.NOT_APPLICABLE: 1, Status.WARN: 2, Status.NOT_CHECKED: 3, Status.FAIL: 4}


def worst(statuses: Iterable[Status]) -> Status:
    """The most severe status (FAIL > NOT CHECKED > WARN > NOT APPLICABLE > PASS); PASS for none."""
    return max(statuses, key=_SEVERITY.__getitem__, default=Status.PASS)


class Verdict(StrEnum):
    READY = "READY"
    NOT_READY = "NOT READY"
    INCOMPLETE = "INCOMPLETE"


@dataclass(frozen=True)
class Finding:
    id: str
    title: str
    status: Status
    detail: str

    def line(self) -> str:
        return f"{self.status.value:<14} {self.id:<9} {self.title}: {self.detail}"


@dataclass(frozen=True)
class ProbeReport:
    """What one probe found about one target (``target`` is printable: never a query string or a secret)."""

    probe: str
    target: str
    findings: tuple[Finding, ...]
    limits: tuple[str, ...] = ()

    @property
    def verdict(self) -> Verdict:
        statuses = {finding.status for finding in self.findings}
        if Status.FAIL in statuses:
            return Verdict.NOT_READY
        if statuses <= {Status.PASS, Status.WARN} and statuses:
            return Verdict.READY
        return Verdict.INCOMPLETE

    def finding(self, finding_id: str) -> Finding:
        for finding in self.findings:
            if finding.id == finding_id:
                return finding
        raise KeyError(finding_id)

    def ids(self, *statuses: Status) -> list[str]:
        """The ids of the findings with one of ``statuses`` (all when none is given), in report order."""
        return [f.id for f in self.findings if not statuses or f.status in statuses]

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (``vposlab probe ... --json``)."""
        return {
            "probe": self.probe,
            "target": self.target,
            "verdict": self.verdict.value,
            "findings": [
                {"id": f.id, "title": f.title, "status": f.status.value, "detail": f.detail} for f in self.findings
            ],
            "limits": list(self.limits),
        }

    def lines(self) -> Iterator[str]:
        """The report as text: the target, one line per finding, the verdict, then the probe's limits."""
        yield f"{self.probe}: {self.target}"
        for finding in self.findings:
            yield "  " + finding.line()
        verdict = self.verdict
        if verdict is Verdict.NOT_READY:
            why = "failed: " + ", ".join(self.ids(Status.FAIL))
        elif verdict is Verdict.INCOMPLETE:
            why = "not shown: " + ", ".join(self.ids(Status.NOT_APPLICABLE, Status.NOT_CHECKED))
        else:
            why = "every finding passed" + (" (with warnings)" if self.ids(Status.WARN) else "")
        yield f"verdict: {verdict.value} ({why})"
        if self.limits:
            yield "what this probe cannot show:"
            for limit in self.limits:
                yield f"  - {limit}"


class ProbeUsageError(ValueError):
    """The probe was asked for something it must not or cannot do (a bad URL, registering on REAL...)."""


# --- URLs ------------------------------------------------------------------------------------------------------


def public_url(url: str | httpx.URL) -> str:
    """``url`` fit to print: scheme, host, port and path; a query string (which may carry a token) becomes ``?...``,
    user info is dropped."""
    parts = urlsplit(str(url))
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    query = "?..." if parts.query else ""
    return f"{parts.scheme}://{host}{port}{parts.path}{query}"


def is_loopback(host: str | None) -> bool:
    """True for ``localhost`` and loopback addresses: only the local lab lives there, never a bank-facing URL."""
    if not host:
        return False
    if host.lower().rstrip(".") in {"localhost", "localhost.localdomain"}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def origin(url: str | httpx.URL) -> tuple[str, str, int]:
    """(scheme, host, port) with the default port filled in and the host lower-cased."""
    parsed = httpx.URL(str(url))
    scheme = parsed.scheme.lower()
    port = parsed.port or (443 if scheme == "https" else 80)
    return scheme, parsed.host.lower().rstrip("."), port


def checked_url(url: str, what: str) -> str:
    """``url`` when it is an absolute http(s) URL; ``ProbeUsageError`` naming ``what`` otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProbeUsageError(f"{what} must be an absolute http:// or https:// URL")
    return url


# --- TLS trust and transport errors ----------------------------------------------------------------------------


def trust_context(ca_bundle: str | None) -> ssl.SSLContext:
    """The TLS client context: the system's trust store, or only ``ca_bundle`` (a PEM file) when given.
    Hostname checks on, TLS 1.2 at least (what a bank's HTTP client accepts)."""
    context = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def trust_name(ca_bundle: str | None) -> str:
    return f"the CA bundle {ca_bundle}" if ca_bundle else "the system's trust store"


# OpenSSL X509_V_ERR_* codes a probe meets, in words an operator can act on.
_VERIFY_REASONS = {
    9: "the certificate is not yet valid",
    10: "the certificate has expired",
    18: "the certificate is self-signed and not trusted",
    19: "the chain ends in a self-signed certificate that is not trusted",
    20: "the issuer is not trusted, or the server does not send the intermediate certificate",
    21: "the first certificate cannot be verified: the server does not send the intermediate certificate?",
    62: "the certificate is not valid for this host name",
    64: "the certificate is not valid for this IP address",
}


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def tls_problem(exc: BaseException) -> str | None:
    """Why the TLS connection was refused, when ``exc`` (or its causes) is a TLS failure; None otherwise."""
    for cause in _causes(exc):
        if isinstance(cause, ssl.SSLCertVerificationError):
            reason = _VERIFY_REASONS.get(cause.verify_code)
            return reason or f"certificate verification failed: {cause.verify_message or cause.reason}"
        if isinstance(cause, ssl.SSLError):
            return f"TLS handshake failed: {cause.reason or type(cause).__name__}"
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text:
        detail = text.split("certificate verify failed:", 1)[-1].split("(_ssl", 1)[0].strip()
        return f"certificate verification failed: {detail or 'unknown reason'}"
    if "SSL" in text or "TLS" in text:
        return "TLS handshake failed"
    return None


def transport_problem(exc: httpx.HTTPError, timeout_s: float) -> tuple[str, str]:
    """(kind, words) for an exchange that got no HTTP answer: kind is ``timeout``, ``tls``, ``connect`` or
    ``other``. Never the request's parameters: only the error's type and its OS-level reason."""
    if isinstance(exc, httpx.TimeoutException):
        return "timeout", f"no answer within {timeout_s:g} s ({type(exc).__name__})"
    problem = tls_problem(exc)
    if problem is not None:
        return "tls", problem
    if isinstance(exc, httpx.ConnectError):
        reason = str(exc).strip() or "connection failed"
        if "refused" in reason.lower():
            reason = "connection refused"
        return "connect", f"unreachable: {reason[:120]}"
    return "other", f"{type(exc).__name__}"


def redactor(secrets: Iterable[str]) -> Callable[[str], str]:
    """A function that replaces every secret in a text (as is, percent- or JSON-encoded) with ``***``: the last
    line of defence before anything is printed."""
    variants = {v for s in secrets if s for v in (s, quote(s, safe=""), quote_plus(s), json.dumps(s)[1:-1]) if v}
    ordered = sorted(variants, key=lambda v: (-len(v), v))
    pattern = re.compile("|".join(re.escape(v) for v in ordered)) if ordered else None
    return (lambda text: pattern.sub("***", text)) if pattern is not None else (lambda text: text)


def short_text(text: str, limit: int = 60) -> str:
    """A short, single-line, printable excerpt of an answer body (for diagnostics only)."""
    cleaned = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 3] + "..."
