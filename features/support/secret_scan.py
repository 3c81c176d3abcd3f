"""Where secrets must never be (RC-25): find any of the lab's secrets, in any of the forms a leak takes, in the text
of what the customer's browser received, the gateway's log lines and the gateway's database.

A leak is named by the secret's name and where it was found, never by its value. The forms looked for: the value
itself, URL-encoded (path and form style), HTML-escaped, JSON-escaped and base64 (standard and URL-safe), so a
secret that was only encoded on its way out is still found.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

from sqlalchemy import MetaData, select
from sqlalchemy.engine import Engine

TEXT_TYPES = ("text/", "application/json", "application/javascript", "application/xml", "image/svg")


def leak_forms(secret: str) -> dict[str, str]:
    """The forms a leaked ``secret`` can take in text, by name."""
    raw = secret.encode("utf-8")
    forms = {
        "as is": secret,
        "URL-encoded": quote(secret, safe=""),
        "form-encoded": quote_plus(secret),
        "HTML-escaped": html.escape(secret),
        "JSON-escaped": json.dumps(secret)[1:-1],
        "base64": base64.b64encode(raw).decode("ascii").rstrip("="),
        "base64url": base64.urlsafe_b64encode(raw).decode("ascii").rstrip("="),
    }
    return {name: form for name, form in forms.items() if len(form) >= 8}


@dataclass(frozen=True)
class Leak:
    secret: str  # the secret's name, never its value
    where: str
    form: str

    def __str__(self) -> str:
        return f"{self.secret} ({self.form}) in {self.where}"


@dataclass
class SecretScan:
    """The named secrets to look for, and the leaks found so far with how much was read."""

    secrets: Mapping[str, str]
    leaks: list[Leak] = field(default_factory=list)
    read: int = 0  # texts scanned

    def text(self, where: str, text: str) -> None:
        self.read += 1
        for name, secret in self.secrets.items():
            for form_name, form in leak_forms(secret).items():
                if form in text:
                    self.leaks.append(Leak(name, where, form_name))
                    break

    def log_lines(self, path: Path, start: int = 0) -> int:
        """Scan the log file from byte ``start``; returns how many lines were read."""
        with path.open("rb") as handle:
            handle.seek(start)
            lines = handle.read().decode("utf-8", errors="replace").splitlines()
        for number, line in enumerate(lines, 1):
            self.text(f"{path.name} line {number} after the scenario began", line)
        return len(lines)

    def database(self, engine: Engine) -> int:
        """Scan every column of every row of every table; returns the number of rows read."""
        metadata = MetaData()
        metadata.reflect(bind=engine)
        rows = 0
        with engine.connect() as connection:
            for table in metadata.sorted_tables:
                for row in connection.execute(select(table)):
                    rows += 1
                    for column, value in row._mapping.items():
                        if value is not None:
                            self.text(f"database {table.name}.{column}", str(value))
        return rows

    def describe(self) -> str:
        return "; ".join(str(leak) for leak in self.leaks)


class BrowserTap:
    """Every answer the customer's browser received while watched (address, headers, text body), read in the
    response event itself: a page's body is gone from the browser once the next page replaces it. A redirect has no
    body to read; its ``Location`` is in the headers scanned."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self.answers: list[tuple[str, int, dict[str, str], str | None]] = []  # (url, status, headers, text body)
        self.failed: list[str] = []

    def attach(self, context: Any) -> None:
        def requested(request: Any) -> None:  # Playwright tags its handlers: a plain function, not a builtin
            self.urls.append(str(request.url))

        def answered(response: Any) -> None:
            url, status = str(response.url), int(response.status)
            headers = dict(response.headers)
            text = None
            if not 300 <= status < 400 and headers.get("content-type", "").startswith(TEXT_TYPES):
                try:
                    text = response.text()
                except Exception:
                    self.failed.append(_short(url))
            self.answers.append((url, status, headers, text))

        context.on("request", requested)
        context.on("response", answered)

    def scan(self, scan: SecretScan) -> list[str]:
        """Scan every address, header and text body; returns the addresses whose answer could not be read."""
        for url in self.urls:
            scan.text(f"an address the browser requested ({_short(url)})", url)
        for url, status, headers, text in self.answers:
            where = f"the {status} answer from {_short(url)}"
            scan.text(f"the headers of {where}", json.dumps(headers))
            if text is not None:
                scan.text(where, text)
        return self.failed

    @property
    def documents(self) -> int:
        return sum(1 for _, _, headers, _ in self.answers if headers.get("content-type", "").startswith("text/html"))


def _short(url: str) -> str:
    return url.split("?", 1)[0]


def named_secrets(values: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {name: value for name, value in values if value}
