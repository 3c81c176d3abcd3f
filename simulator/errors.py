"""The simulator's one error tree; each error knows how it is answered over HTTP (mapped in ``app.py``).

::

    SimulatorError
     +-- ControlError            JSON {"error": code, "message": ...} on /_control/
     |    +-- BadInput           400 bad_input
     |    +-- NotFound           404 not_found
     |    +-- Conflict           409 conflict
     +-- RbsError                bank API: HTTP 200 {"errorCode": "<n>", "errorMessage": ...}
     +-- EcwidApiError           Ecwid REST: {"errorMessage": ..., "errorCode": ...} with its HTTP status
"""

from __future__ import annotations


class SimulatorError(Exception):
    """Base of every error the simulator raises on purpose."""

    code = "simulator_error"
    http_status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ControlError(SimulatorError):
    """A control API request cannot be honoured."""


class BadInput(ControlError):
    code = "bad_input"
    http_status = 400


class NotFound(ControlError):
    code = "not_found"
    http_status = 404


class Conflict(ControlError):
    code = "conflict"
    http_status = 409


class RbsError(SimulatorError):
    """A bank (RBS) API error: always HTTP 200, the outcome is in ``errorCode`` (protocols.md 2.2)."""

    http_status = 200

    def __init__(self, error_code: int, message: str) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.code = f"rbs_{error_code}"


class EcwidApiError(SimulatorError):
    """An Ecwid REST API error with Ecwid's own HTTP status and ``errorCode`` (protocols.md 1.3)."""

    def __init__(self, http_status: int, error_code: str, message: str) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.code = error_code
