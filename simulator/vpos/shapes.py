"""Response shapes where real RBS banks differ (protocols.md 2.2 and 2.9), switched through
``/_control/vpos/shapes`` globally or per merchant (``userName``):

- ``errorCodeType``: per method (or ``*``), ``errorCode`` (``ErrorCode`` in getOrderStatus.do) as a ``number``
  or a ``string``; unset keeps the simulator's default (register.do success the number 0, everything else strings);
- ``omitErrorCodeOnSuccess``: per method (or ``*``), a successful answer carries no errorCode/errorMessage;
- ``declinedErrorCode``: 0 (default) or 2: the status of a declined order (orderStatus 6) comes with errorCode 2,
  as some banks answer, and still the whole status;
- ``statusVersion``: 1..46, the merchant's getOrderStatusExtended response version (``simulator.vpos.status``);
  unset: the simulator's own shape, which equals version 5.

A merchant's setting wins over the global one field by field, and for a method a named entry wins over ``*``.
Defaults keep the simulator's historical shapes. Thread-safe; ``reset`` restores the defaults.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal, get_args

ErrorCodeType = Literal["number", "string"]
ERROR_CODE_TYPES: tuple[str, ...] = get_args(ErrorCodeType)
DECLINED_ERROR_CODES = (0, 2)
STATUS_VERSION_MIN = 1
STATUS_VERSION_MAX = 46
ANY_METHOD = "*"
LEGACY_STATUS_METHOD = "getOrderStatus.do"


class Unset(Enum):
    """Marks a field a change request does not mention (``None`` means "back to the default")."""

    UNSET = "unset"


UNSET = Unset.UNSET


def error_keys(method: str) -> tuple[str, str]:
    """The names of the error fields in ``method``'s answers: getOrderStatus.do capitalises them."""
    return ("ErrorCode", "ErrorMessage") if method == LEGACY_STATUS_METHOD else ("errorCode", "errorMessage")


@dataclass
class ShapeSettings:
    """One level of settings (global or one merchant); empty dicts and None mean "not set here"."""

    error_code_type: dict[str, ErrorCodeType] = field(default_factory=dict)
    omit_error_code_on_success: dict[str, bool] = field(default_factory=dict)
    declined_error_code: int | None = None
    status_version: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "errorCodeType": dict(self.error_code_type),
            "omitErrorCodeOnSuccess": dict(self.omit_error_code_on_success),
            "declinedErrorCode": self.declined_error_code,
            "statusVersion": self.status_version,
        }


@dataclass(frozen=True)
class ShapeChange:
    """A validated change: for the dicts, a method mapped to None removes its entry."""

    error_code_type: dict[str, ErrorCodeType | None] = field(default_factory=dict)
    omit_error_code_on_success: dict[str, bool | None] = field(default_factory=dict)
    declined_error_code: int | Unset | None = UNSET
    status_version: int | Unset | None = UNSET

    @property
    def is_empty(self) -> bool:
        return (
            not self.error_code_type
            and not self.omit_error_code_on_success
            and self.declined_error_code is UNSET
            and self.status_version is UNSET
        )


@dataclass(frozen=True)
class Shape:
    """The effective shape of one answer (one merchant, one method)."""

    error_code_type: ErrorCodeType | None = None
    omit_error_code_on_success: bool = False
    declined_error_code: int = 0
    status_version: int | None = None

    def finish(self, body: dict[str, Any], method: str) -> dict[str, Any]:
        """``body`` with its error code in this shape: typed, or dropped (with its message) on success."""
        code_key, message_key = error_keys(method)
        if code_key not in body:
            return body
        code = int(body[code_key])
        if code == 0 and self.omit_error_code_on_success:
            body.pop(code_key)
            body.pop(message_key, None)
        elif self.error_code_type == "number":
            body[code_key] = code
        elif self.error_code_type == "string":
            body[code_key] = str(code)
        return body


def _pick(levels: list[dict[str, Any]], method: str) -> Any:
    for level in levels:
        for key in (method, ANY_METHOD):
            if key in level:
                return level[key]
    return None


class ShapeBook:
    """The global settings and each merchant's."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._global = ShapeSettings()
        self._merchants: dict[str, ShapeSettings] = {}

    def shape(self, merchant: str | None, method: str) -> Shape:
        """The effective shape for ``merchant`` (a userName, or None) calling ``method``."""
        with self._lock:
            own = self._merchants.get(merchant) if merchant is not None else None
            levels = [own, self._global] if own is not None else [self._global]
            error_type = _pick([level.error_code_type for level in levels], method)
            omit = _pick([level.omit_error_code_on_success for level in levels], method)
            declined = next((lv.declined_error_code for lv in levels if lv.declined_error_code is not None), 0)
            version = next((lv.status_version for lv in levels if lv.status_version is not None), None)
        return Shape(
            error_code_type=error_type,
            omit_error_code_on_success=bool(omit),
            declined_error_code=declined,
            status_version=version,
        )

    def update(self, change: ShapeChange, merchant: str | None = None) -> None:
        """Apply a validated change to the global settings or to ``merchant``'s."""
        with self._lock:
            settings = self._global if merchant is None else self._merchants.setdefault(merchant, ShapeSettings())
            for method, error_type in change.error_code_type.items():
                if error_type is None:
                    settings.error_code_type.pop(method, None)
                else:
                    settings.error_code_type[method] = error_type
            for method, omit in change.omit_error_code_on_success.items():
                if omit is None:
                    settings.omit_error_code_on_success.pop(method, None)
                else:
                    settings.omit_error_code_on_success[method] = omit
            if not isinstance(change.declined_error_code, Unset):
                settings.declined_error_code = change.declined_error_code
            if not isinstance(change.status_version, Unset):
                settings.status_version = change.status_version

    def reset(self) -> None:
        with self._lock:
            self._global = ShapeSettings()
            self._merchants.clear()

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            return {
                "global": self._global.to_json(),
                "merchants": {name: settings.to_json() for name, settings in sorted(self._merchants.items())},
            }
