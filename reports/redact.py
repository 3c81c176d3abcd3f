"""Secret redaction for everything that ends up in a report.

Role: the builder passes the finished ``Report`` through ``Redactor.deep`` once, so every string in it
(target values and keys, feature and scenario names, step names, error texts, evidence labels, paths and
texts, reasons) has each secret replaced by ``***`` *before* any template sees it (house rule 13: secrets
never in the report). Templates and writers therefore never need to think about secrets.

Besides the literal value, the forms a secret commonly takes inside error messages and URLs are redacted too:
percent-encoded (``quote``/``quote_plus``), JSON-escaped and HTML-escaped. Empty secrets are ignored.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
from collections.abc import Iterable
from enum import Enum
from typing import TypeVar, cast
from urllib.parse import quote, quote_plus

REDACTED = "***"

_T = TypeVar("_T")


def _variants(secret: str) -> set[str]:
    return {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1], html.escape(secret)}


class Redactor:
    """Replaces every occurrence of any secret (and its encoded forms) with ``***``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        variants: set[str] = set()
        for secret in secrets:
            if secret:
                variants |= _variants(secret)
        variants.discard("")
        # Longest first, so a secret that contains another one is replaced whole.
        ordered = sorted(variants, key=lambda v: (-len(v), v))
        self._pattern = re.compile("|".join(re.escape(v) for v in ordered)) if ordered else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def text(self, value: str) -> str:
        """``value`` with every secret replaced by ``***``."""
        if self._pattern is None:
            return value
        return self._pattern.sub(REDACTED, value)

    def deep(self, value: _T) -> _T:
        """A copy of ``value`` with every string inside (dataclasses, tuples, lists, dicts) redacted."""
        if self._pattern is None:
            return value
        return cast(_T, self._deep(value))

    def _deep(self, value: object) -> object:
        if isinstance(value, Enum) or value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, tuple):
            return tuple(self._deep(v) for v in value)
        if isinstance(value, list):
            return [self._deep(v) for v in value]
        if isinstance(value, dict):
            return {self._deep(k): self._deep(v) for k, v in value.items()}
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            changes = {f.name: self._deep(getattr(value, f.name)) for f in dataclasses.fields(value)}
            return dataclasses.replace(value, **changes)
        return value
