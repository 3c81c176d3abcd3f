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
    """Every answer the customer's browser received (address, headers, body) while watched; the bodies are read
    after the steps, outside Playwright's event dispatcher."""

    def __init__(self) -> None:
        self.responses: list[Any] = []
        self.urls: list[str] = []

    def attach(self, context: Any) -> None:
        context.on("request", lambda request: self.urls.append(str(request.url)))
        context.on("response", self.responses.append)

    def scan(self, scan: SecretScan) -> list[str]:
        """Scan every address and answer; returns the documents whose body could not be read (the caller fails)."""
        unread = []
        for url in self.urls:
            scan.text(f"an address the browser requested ({_short(url)})", url)
        for response in self.responses:
            where = f"the answer from {_short(str(response.url))}"
            headers = _headers(response)
            scan.text(f"the headers of {where}", json.dumps(headers))
            if 300 <= int(response.status) < 400:
                continue  # a redirect's body is not kept by the browser; its Location was scanned with the headers
            if not headers.get("content-type", "").startswith(TEXT_TYPES):
                continue
            try:
                body = response.text()
            except Exception:
                if response.request.resource_type == "document":
                    unread.append(_short(str(response.url)))
                continue
            scan.text(where, body)
        return unread


def _headers(response: Any) -> dict[str, str]:
    try:
        return dict(response.all_headers())
    except Exception:
        return dict(response.headers)


def _short(url: str) -> str:
    return url.split("?", 1)[0]


def named_secrets(values: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {name: value for name, value in values if value}
