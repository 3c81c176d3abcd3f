"""Ecwid REST orders API client (protocols.md 1.3): ``PUT /{storeId}/orders/{referenceTransactionId}``.

Bearer token in the header only (``?token=`` has been refused since 2025-03-20). Sends the current status, not a
delta, so a repeat is harmless.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import quote

import httpx

from gateway.domain.errors import EcwidApiError

DEFAULT_RETRY_AFTER_S = 10.0


class EcwidOrdersClient:
    def __init__(self, http: httpx.Client, api_url: str) -> None:
        self._http = http
        self._api_url = api_url.rstrip("/")

    def get_order(self, store_id: int, order_ref: str, token: str) -> dict[str, Any]:
        """GET the order (its ``paymentStatus``, ``total``...); raises ``EcwidApiError`` like ``update_order``."""
        response = self._send("GET", store_id, order_ref, token)
        if response.status_code == 200:
            try:
                body = response.json()
            except ValueError as exc:
                raise EcwidApiError("Ecwid API answered 200 without JSON", status=200) from exc
            if isinstance(body, dict):
                return body
            raise EcwidApiError("Ecwid API answered a non-object", status=200)
        raise _refusal(response)

    def update_order(self, store_id: int, order_ref: str, token: str, fields: dict[str, Any]) -> None:
        """PUT the fields; returns on ``updateCount >= 1``, raises ``EcwidApiError`` (with ``transient``) else."""
        response = self._send("PUT", store_id, order_ref, token, fields)
        if response.status_code == 200:
            try:
                count = response.json().get("updateCount", 0)
            except ValueError as exc:
                raise EcwidApiError("Ecwid API answered 200 without JSON", status=200) from exc
            if count >= 1:
                return
            raise EcwidApiError("Ecwid API updated nothing", status=200)
        raise _refusal(response)

    def _send(
        self, method: str, store_id: int, order_ref: str, token: str, fields: dict[str, Any] | None = None
    ) -> httpx.Response:
        url = f"{self._api_url}/{store_id}/orders/{quote(order_ref, safe='')}"
        try:
            return self._http.request(method, url, json=fields, headers={"Authorization": f"Bearer {token}"})
        except httpx.TimeoutException as exc:
            raise EcwidApiError("Ecwid API timed out") from exc
        except httpx.HTTPError as exc:
            raise EcwidApiError(f"Ecwid API unreachable: {type(exc).__name__}") from exc


def _refusal(response: httpx.Response) -> EcwidApiError:
    """``retry_after``: on a 429 always (10 s when Ecwid gave none, like Ecwid's own client); on a 503 only when
    Ecwid sent the header (else the relay's own backoff applies)."""
    header = response.headers.get("Retry-After")
    retry_after = None
    if response.status_code == 429 or (response.status_code == 503 and header):
        retry_after = _retry_after(header)
    return EcwidApiError(
        f"Ecwid API answered {response.status_code} {_error_code(response)}".strip(),
        status=response.status_code,
        retry_after=retry_after,
    )


def _retry_after(value: str | None) -> float:
    """Seconds, never negative; anything else (an HTTP date, garbage, ``inf``, ``nan``) means the default."""
    try:
        seconds = float(value) if value else DEFAULT_RETRY_AFTER_S
    except ValueError:
        return DEFAULT_RETRY_AFTER_S
    return max(0.0, seconds) if math.isfinite(seconds) else DEFAULT_RETRY_AFTER_S


def _error_code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("errorCode", "")) if isinstance(body, dict) else ""
