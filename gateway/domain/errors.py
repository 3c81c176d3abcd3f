"""The gateway's error tree. Every error has a stable ``code``; ``gateway.web.errors`` maps them to HTTP.

    GatewayError
    ├── InvalidPaymentRequest      invalid_payment_request   (Ecwid request: bad key, tampered, truncated, bad fields)
    ├── ProviderError              provider_error            (bank answered with errorCode != 0)
    │   └── ProviderUnavailable    provider_unavailable      (timeout, connection error, 5xx, non-JSON)
    ├── EcwidApiError              ecwid_api_error           (Ecwid REST refused or failed)
    ├── UnknownPayment             unknown_payment           (return/callback for an order we never registered)
    ├── BadChecksum                bad_checksum              (callback signature missing or wrong)
    ├── OperationRefused           operation_refused         (refund / reverse / capture not allowed; ``reason``)
    └── ConfigurationError         configuration_error       (settings missing or unsafe)

Messages never carry secrets or payloads: they are safe to log.
"""

from __future__ import annotations


class GatewayError(Exception):
    code = "gateway_error"


class InvalidPaymentRequest(GatewayError):
    """The Ecwid payment request cannot be used. ``reason`` is for logs only, never for the customer."""

    code = "invalid_payment_request"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ProviderError(GatewayError):
    code = "provider_error"

    def __init__(self, message: str, *, error_code: str | None = None) -> None:
        super().__init__(message)
        self.error_code = error_code


class ProviderUnavailable(ProviderError):
    code = "provider_unavailable"


class EcwidApiError(GatewayError):
    code = "ecwid_api_error"

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:
        """5xx, 429, timeouts and connection errors are worth retrying; other 4xx are not."""
        return self.status is None or self.status == 429 or self.status >= 500


class UnknownPayment(GatewayError):
    code = "unknown_payment"


class BadChecksum(GatewayError):
    code = "bad_checksum"


class OperationRefused(GatewayError):
    """A money operation after the payment that must not happen (or the bank refused it). ``reason`` is a stable
    code a console can translate: ``not_paid``, ``amount_not_positive``, ``over_refund``, ``already_reversed``,
    ``not_reversible``, ``not_held``, ``over_capture``, ``operation_in_progress``, ``bank_refused``,
    ``bank_unavailable``; ``detail`` says the numbers (no secrets)."""

    code = "operation_refused"

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class ConfigurationError(GatewayError):
    code = "configuration_error"
