"""``vposlab-gateway audit`` (RC-30): is this configuration ready to take REAL money? Exactly what is missing or
unsafe, one finding per check, never a secret's value.

Each check has a stable id and ends in PASS, WARN (works, but a person should decide) or FAIL (not ready). The
audit is ready only when nothing FAILs. It reads the settings (``VPOSLAB_*``), the process environment (debug
switches, TEST-only variables), the intended number of server processes and, when the database answers, its schema
revision and the operator accounts.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

from gateway.domain.errors import ConfigurationError
from gateway.services.tokens import parse_keys
from gateway.settings import ProviderMode, Settings

PASS, WARN, FAIL = "PASS", "WARN", "FAIL"
REAL_ECWID_API = "https://app.ecwid.com/api/v3"
# A host whose name says it is not production: a label that is (or starts/ends with, between dashes) one of these
# words, ArCa's TEST host, or a reserved example/test top-level domain.
TEST_HOST_PATTERN = re.compile(r"(^|[.-])(test|sandbox|staging|stage|sim|simulator|lab|dev|demo)([.-]|$)|ipaytest")
RESERVED_TLDS = ("example", "test", "invalid", "localhost", "local")
# Keys that are published (docs, tests) and so are no secret at all.
KNOWN_SAMPLE_KEYS = frozenset({"Nn3G3m0x0o1h4kqLq6yXv3o0gq2mZr8bXk3y0l2b7ZQ="})
MIN_KEY_LENGTH = 32
DEBUG_VARIABLES = ("FLASK_DEBUG", "VPOSLAB_DEBUG")
TEST_ONLY_VARIABLES = ("VPOSLAB_TEST_POSTGRES_URL", "VPOSLAB_SKIP_POSTGRES", "VPOSLAB_LAB_SECRETS")


@dataclass(frozen=True)
class Finding:
    check: str
    title: str
    result: str  # PASS | WARN | FAIL
    detail: str


@dataclass(frozen=True)
class OperatorFacts:
    """What the audit needs to know about console accounts (read from the database when it answers)."""

    active: int
    active_without_totp: int


@dataclass(frozen=True)
class AuditReport:
    findings: list[Finding] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return all(finding.result != FAIL for finding in self.findings)

    def as_dict(self) -> dict[str, object]:
        return {"ready": self.ready, "findings": [asdict(finding) for finding in self.findings]}


def audit_environment(
    environ: Mapping[str, str],
    *,
    serve_workers: int = 2,
    schema_ok: bool | None = None,
    operators: OperatorFacts | None = None,
) -> AuditReport:
    """Audit the settings read from ``environ``; settings that do not even load are one FAIL saying why."""
    try:
        settings = Settings.from_env(environ)
    except ConfigurationError as exc:
        return AuditReport([Finding("AU-00", "settings load", FAIL, str(exc))])
    return audit_settings(
        settings, environ=environ, serve_workers=serve_workers, schema_ok=schema_ok, operators=operators
    )


def audit_settings(
    settings: Settings,
    *,
    environ: Mapping[str, str],
    serve_workers: int = 2,
    schema_ok: bool | None = None,
    operators: OperatorFacts | None = None,
) -> AuditReport:
    checks: list[Finding] = [
        _mode(settings),
        _bank_url(settings),
        *_credentials(settings),
        _public_url(settings),
        _callback_key(settings),
        _debug(environ),
        _console(settings, operators),
        _test_only(settings, environ),
        _database(settings, serve_workers),
        _schema(schema_ok),
        _token_key(settings),
        _return_hosts(settings),
        _proxy(settings),
    ]
    return AuditReport(checks)


def _mode(settings: Settings) -> Finding:
    if settings.provider_mode is ProviderMode.REAL:
        return Finding("AU-01", "provider mode", PASS, "REAL")
    return Finding("AU-01", "provider mode", FAIL, "VPOSLAB_PROVIDER_MODE is TEST: set REAL to take real money")


def _bank_url(settings: Settings) -> Finding:
    url = settings.provider_url
    problem = _url_problem(url)
    if problem:
        return Finding("AU-02", "bank URL", FAIL, f"{_origin(url)}: {problem}")
    if urlsplit(url).port in (8444, 8445):
        return Finding("AU-02", "bank URL", FAIL, f"{_origin(url)} uses ArCa's TEST ports")
    return Finding("AU-02", "bank URL", PASS, _origin(url))


def _credentials(settings: Settings) -> list[Finding]:
    if not settings.provider_credentials:
        return [Finding("AU-03", "bank credentials", FAIL, "no currency has REAL credentials")]
    findings = []
    users = [c.user_name for c in settings.provider_credentials.values()]
    for currency, creds in sorted(settings.provider_credentials.items()):
        password = creds.password.get_secret_value()
        if not password.strip():
            findings.append(Finding("AU-03", f"bank credentials {currency}", FAIL, "the password is empty"))
        elif any(marker in creds.user_name.lower() for marker in ("test", "lab", "demo")):
            findings.append(
                Finding("AU-03", f"bank credentials {currency}", FAIL, f"user {creds.user_name!r} looks like TEST")
            )
        elif users.count(creds.user_name) > 1:
            findings.append(
                Finding(
                    "AU-03",
                    f"bank credentials {currency}",
                    WARN,
                    f"user {creds.user_name!r} serves several currencies (ArCa issues one per currency)",
                )
            )
        else:
            findings.append(Finding("AU-03", f"bank credentials {currency}", PASS, f"user {creds.user_name!r}"))
    return findings


def _public_url(settings: Settings) -> Finding:
    problem = _url_problem(settings.public_url)
    if problem:
        return Finding("AU-04", "public URL", FAIL, f"{_origin(settings.public_url)}: {problem}")
    return Finding("AU-04", "public URL", PASS, _origin(settings.public_url))


def _callback_key(settings: Settings) -> Finding:
    if settings.callback_key is None:
        return Finding(
            "AU-05", "callback key", FAIL, "VPOSLAB_CALLBACK_KEY is not set: anyone could send callbacks as the bank"
        )
    if len(settings.callback_key.get_secret_value()) < MIN_KEY_LENGTH:
        return Finding("AU-05", "callback key", FAIL, f"shorter than {MIN_KEY_LENGTH} characters")
    return Finding("AU-05", "callback key", PASS, "set")


def _debug(environ: Mapping[str, str]) -> Finding:
    on = [name for name in DEBUG_VARIABLES if environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")]
    if on:
        return Finding("AU-06", "debug off", FAIL, f"{', '.join(on)} turns debugging on")
    return Finding("AU-06", "debug off", PASS, "no debug switch set")


def _console(settings: Settings, operators: OperatorFacts | None) -> Finding:
    title = "operator console protected"
    if settings.console_secret_key is None:
        return Finding(
            "AU-07", title, WARN, "VPOSLAB_CONSOLE_SECRET_KEY is not set: no console, so nobody can act on exceptions"
        )
    if len(settings.console_secret_key.get_secret_value()) < MIN_KEY_LENGTH:
        return Finding("AU-07", title, FAIL, f"the console key is shorter than {MIN_KEY_LENGTH} characters")
    if operators is not None and operators.active == 0:
        return Finding("AU-07", title, FAIL, "no active operator account (vposlab-gateway operator add)")
    if not settings.console_require_totp:
        if operators is not None and operators.active_without_totp:
            return Finding(
                "AU-07",
                title,
                WARN,
                f"{operators.active_without_totp} active operator(s) without a second factor; consider "
                "VPOSLAB_CONSOLE_REQUIRE_TOTP=true",
            )
        return Finding("AU-07", title, WARN if operators is None else PASS, "passwords (argon2id), TOTP optional")
    return Finding("AU-07", title, PASS, "passwords (argon2id) and a required TOTP second factor")


def _test_only(settings: Settings, environ: Mapping[str, str]) -> Finding:
    problems = [name for name in TEST_ONLY_VARIABLES if environ.get(name)]
    if settings.test_clock:  # refused in REAL mode already; a TEST gateway audited for the switch is told too
        problems.append("VPOSLAB_TEST_CLOCK is on: operators can move the gateway's clock")
    if settings.ecwid_api_url != REAL_ECWID_API:
        problems.append(f"VPOSLAB_ECWID_API_URL is {_origin(settings.ecwid_api_url)}, not Ecwid's")
    if settings.poll_after_s < 10 or settings.pending_wait_s < 10:
        problems.append("lab timings (VPOSLAB_POLL_AFTER_S / VPOSLAB_PENDING_WAIT_S under 10 s)")
    if problems:
        return Finding("AU-08", "TEST-only settings gone", FAIL, "; ".join(problems))
    return Finding("AU-08", "TEST-only settings gone", PASS, "none found")


def _database(settings: Settings, serve_workers: int) -> Finding:
    scheme = settings.database_url.split(":", 1)[0].lower()
    if scheme.startswith("sqlite"):
        return Finding(
            "AU-09",
            "database",
            FAIL,
            f"SQLite with {serve_workers} server process(es) and a worker: use PostgreSQL (VPOSLAB_DATABASE_URL)",
        )
    return Finding("AU-09", "database", PASS, scheme)


def _schema(schema_ok: bool | None) -> Finding:
    if schema_ok is None:
        return Finding("AU-10", "database schema", WARN, "the database did not answer: not checked")
    if not schema_ok:
        return Finding("AU-10", "database schema", FAIL, "not at this version's revision: run vposlab-gateway migrate")
    return Finding("AU-10", "database schema", PASS, "at this version's revision")


def _token_key(settings: Settings) -> Finding:
    if KNOWN_SAMPLE_KEYS & set(parse_keys(settings.token_key.get_secret_value())):
        return Finding("AU-11", "token key", FAIL, "VPOSLAB_TOKEN_KEY is a published sample key: generate your own")
    return Finding("AU-11", "token key", PASS, "set")


def _return_hosts(settings: Settings) -> Finding:
    missing = sorted(set(settings.ecwid_client_secrets) - set(settings.ecwid_return_hosts))
    if missing:
        stores = ", ".join(str(store) for store in missing)
        return Finding(
            "AU-12",
            "returnUrl hosts",
            WARN,
            f"store {stores} accepts any returnUrl host (VPOSLAB_ECWID_RETURN_HOSTS narrows it)",
        )
    return Finding("AU-12", "returnUrl hosts", PASS, "every store lists its hosts")


def _proxy(settings: Settings) -> Finding:
    if settings.proxy_hops == 0:
        return Finding(
            "AU-13", "proxy", WARN, "VPOSLAB_PROXY_HOPS is 0: behind a TLS proxy, client addresses are the proxy's"
        )
    return Finding("AU-13", "proxy", PASS, f"{settings.proxy_hops} trusted hop(s)")


def _url_problem(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme != "https":
        return "not https"
    host = (parts.hostname or "").lower()
    if host in ("localhost", "") or host.rsplit(".", 1)[-1] in RESERVED_TLDS:
        return "a local or reserved host"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None and (address.is_private or address.is_loopback or address.is_link_local):
        return "a private address"
    if TEST_HOST_PATTERN.search(host):
        return "a TEST-looking host"
    return ""


def _origin(url: str) -> str:
    """Scheme, host and port only: a URL in a report never carries a path, a query or credentials."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}"


def format_lines(report: AuditReport) -> Sequence[str]:
    lines = [f"{f.result:<4} {f.check} {f.title}: {f.detail}" for f in report.findings]
    fails = sum(f.result == FAIL for f in report.findings)
    lines.append("ready for REAL" if report.ready else f"NOT ready for REAL: {fails} check(s) failed")
    return lines
