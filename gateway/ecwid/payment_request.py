"""Turn the browser's form POST into a validated ``PaymentRequest`` or one uniform ``InvalidPaymentRequest``.

Which store sent it is only known after decryption. Several stores may share one app (one client secret, hence one
key), so the configured secrets are grouped by key and the decrypted ``storeId`` must be one of the stores of the key
that opened it. The key is decided without guessing keys in turn:

1. ``enc_data`` (AES-GCM, authenticated) is tried under every distinct key. An authentic decryption identifies the
   key beyond doubt: its payload is then the request, valid or not (``data`` is not consulted).
2. Only when no ``enc_data`` authenticates, ``data`` (AES-CBC, no integrity) is tried under every distinct key and
   each decryption is validated in full (JSON, schema, storeId of that key). Exactly one valid candidate is
   accepted; none or several are refused. A wrong key that merely passes the padding check (about 1 in 256) and
   starts with '{' (1 in 65,000 together) therefore never takes a genuine request away from its store.

CBC has no integrity, so every field is validated as if an attacker chose it (the first 16 plaintext bytes can be
flipped through the IV). Even an authentic payload is checked so that nothing we store, echo or redirect to can fail
later: every stored string is a ``CleanStr`` (no control character, no lone surrogate), ``returnUrl`` is an absolute
http(s) URL with a host and without whitespace or backslashes, ids fit a signed 64-bit integer (``internalId`` >= 0)
and the total's minor units do too (``Money``).

The customer is sent back to ``returnUrl`` exactly as received (protocols.md 1.4), on whatever host it names. That is
acceptable because the payload is encrypted with the store's client secret: only Ecwid (or whoever holds the
secret) chooses it, and CBC tampering without the key only garbles blocks, which the schema refuses. Stores that
want more can list their hosts (``Settings.ecwid_return_hosts``): ``"mystore.example"`` matches that host exactly,
``"*.company.site"`` matches its subdomains only (not ``company.site`` itself); host names compare case-insensitively,
without a trailing dot, ignoring the port, as written in the returnUrl (no IDNA conversion). A store with a list gets
the one uniform ``InvalidPaymentRequest`` for any other host; a store without one accepts any host.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictFloat, StrictInt, ValidationError
from pydantic import SecretStr as PydanticSecret

from gateway.domain.errors import InvalidPaymentRequest
from gateway.domain.money import Money, MoneyError
from gateway.domain.text import has_unsafe_characters
from gateway.ecwid.crypto import decrypt_cbc, decrypt_gcm, key_from_secret

MAX_FIELD_LEN = 8192
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# A host-name label for the allow-list: anything but separators, URL delimiters, '%', whitespace and wildcards.
_HOST_LABEL = r"[^\s./:@*\\?#\[\]%]+"
_HOST_NAME = re.compile(rf"{_HOST_LABEL}(?:\.{_HOST_LABEL})*")


def _clean(value: str) -> str:
    if has_unsafe_characters(value):
        raise ValueError("control character or lone surrogate")
    return value


def _absolute_http_url(value: str) -> str:
    # Whitespace (any Unicode space) and backslashes are refused outright: browsers strip or reinterpret them (a
    # backslash reads as '/'), so the host a browser would visit could differ from the host parsed here.
    if any(char.isspace() or char == "\\" for char in value):
        raise ValueError("whitespace or backslash in URL")
    parts = urlsplit(value)  # ValueError for a broken IPv6 literal
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not an absolute http(s) URL with a host")
    _ = parts.port  # ValueError for a port that is not a number in 0..65535
    return value


CleanStr = Annotated[str, AfterValidator(_clean)]
"""A string we may store, echo, log or redirect to: no C0/C1 control character, no DEL, no lone surrogate."""
HttpUrl = Annotated[CleanStr, Field(min_length=1, max_length=MAX_FIELD_LEN), AfterValidator(_absolute_http_url)]
"""An absolute http(s) URL with a host, kept exactly as received (never normalised)."""
Int64 = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
NonNegativeInt64 = Annotated[int, Field(ge=0, le=INT64_MAX)]


class _Order(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: CleanStr = Field(min_length=1, max_length=256)
    internalId: NonNegativeInt64 | None = None
    referenceTransactionId: CleanStr = Field(min_length=1, max_length=256)
    total: StrictFloat | StrictInt  # a JSON number: lax mode would read true as 1 and "15000" as 15000
    email: CleanStr | None = Field(default=None, max_length=1024)


class _Cart(BaseModel):
    model_config = ConfigDict(extra="ignore")
    currency: CleanStr = Field(min_length=3, max_length=3)
    order: _Order


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore")
    storeId: Int64
    returnUrl: HttpUrl
    token: CleanStr = Field(min_length=1, max_length=1024)
    lang: CleanStr = Field(default="en", max_length=32)
    cart: _Cart
    merchantAppSettings: dict[str, Any] = Field(default_factory=dict)  # read by nobody: neither stored nor echoed


@dataclass(frozen=True)
class PaymentRequest:
    store_id: int
    ecwid_order_id: str
    ecwid_internal_id: int | None
    reference_transaction_id: str
    amount: Money
    return_url: str
    lang: str
    token: PydanticSecret
    email: str | None


def parse_payment_request(
    form: Mapping[str, str],
    client_secrets: Mapping[int, PydanticSecret],
    supported_currencies: frozenset[str],
    *,
    return_hosts: Mapping[int, Sequence[str]] | None = None,
) -> PaymentRequest:
    """Decrypt (``enc_data`` first, then ``data``) and validate. Raises ``InvalidPaymentRequest`` for anything odd,
    never says which key or check failed, and never picks a store by the order of the configured secrets.

    ``return_hosts``: storeId -> the returnUrl host patterns accepted for that store (see the module docstring);
    a store without an entry accepts any host."""
    hosts = return_hosts or {}
    enc_data, data = form.get("enc_data"), form.get("data")
    if not enc_data and not data:
        raise InvalidPaymentRequest("no enc_data or data field")
    for field in (enc_data, data):
        if field and len(field) > 1_000_000:
            raise InvalidPaymentRequest("request too large")
    stores_by_key = _stores_by_key(client_secrets)
    if enc_data:
        for key, stores in stores_by_key.items():
            try:
                plaintext = decrypt_gcm(enc_data, key)
            except InvalidPaymentRequest:
                continue
            return _validate(plaintext, stores, supported_currencies, hosts)  # authentic: this key and no other
    if not data:
        raise InvalidPaymentRequest("undecryptable")
    candidates: list[PaymentRequest] = []
    for key, stores in stores_by_key.items():  # every key, always: no early exit that depends on the order
        try:
            candidates.append(_validate(decrypt_cbc(data, key), stores, supported_currencies, hosts))
        except InvalidPaymentRequest:
            continue
    if len(candidates) != 1:
        raise InvalidPaymentRequest("undecryptable" if not candidates else "ambiguous: valid under several keys")
    return candidates[0]


def _stores_by_key(client_secrets: Mapping[int, PydanticSecret]) -> dict[bytes, frozenset[int]]:
    """Distinct AES keys -> the stores configured with them (stores of one app share its secret)."""
    groups: dict[bytes, set[int]] = {}
    for store_id, secret in client_secrets.items():
        groups.setdefault(key_from_secret(secret.get_secret_value()), set()).add(store_id)
    return {key: frozenset(stores) for key, stores in groups.items()}


def return_host_pattern_problem(pattern: str) -> str | None:
    """None when ``pattern`` (lower-case, without a trailing dot) is a host name or ``*.`` and a host name; otherwise
    why not, without quoting it (it is configuration, read by ``Settings``)."""
    if has_unsafe_characters(pattern) or _HOST_NAME.fullmatch(pattern.removeprefix("*.")) is None:
        return "a returnUrl host must be a host name or '*.' and a host name (no scheme, port, path or other '*')"
    return None


def return_host_allowed(host: str, patterns: Sequence[str]) -> bool:
    """True when ``host`` equals a listed host or is a subdomain of a ``*.suffix`` one (never the suffix itself).
    A host with an empty label, a '%' or other oddities matches nothing."""
    host = host.lower().removesuffix(".")
    if _HOST_NAME.fullmatch(host) is None:
        return False
    return any(host.endswith(p[1:]) if p.startswith("*.") else host == p for p in patterns)


def _validate(
    plaintext: bytes,
    stores: frozenset[int],
    supported_currencies: frozenset[str],
    return_hosts: Mapping[int, Sequence[str]],
) -> PaymentRequest:
    try:
        payload = _Payload.model_validate(json.loads(plaintext))
    # JSONDecodeError and UnicodeDecodeError are ValueErrors; RecursionError: JSON nested deeper than the
    # interpreter's recursion limit (json.loads raises it, and it must not become a 500).
    except (ValueError, ValidationError, RecursionError) as exc:
        raise InvalidPaymentRequest("payload does not match the schema") from exc
    if payload.storeId not in stores:
        raise InvalidPaymentRequest("storeId does not belong to the key that decrypted it")
    currency = payload.cart.currency.upper()
    if currency not in supported_currencies:
        raise InvalidPaymentRequest("unsupported currency")
    try:
        amount = Money.from_major(payload.cart.order.total, currency)
    except MoneyError as exc:
        raise InvalidPaymentRequest("bad amount") from exc
    if amount.minor <= 0:
        raise InvalidPaymentRequest("total is not positive")
    allowed_hosts = return_hosts.get(payload.storeId)
    if allowed_hosts is not None and not return_host_allowed(urlsplit(payload.returnUrl).hostname or "", allowed_hosts):
        raise InvalidPaymentRequest("returnUrl host is not on the store's list")
    order = payload.cart.order
    return PaymentRequest(
        store_id=payload.storeId,
        ecwid_order_id=order.id,
        ecwid_internal_id=order.internalId,
        reference_transaction_id=order.referenceTransactionId,
        amount=amount,
        return_url=payload.returnUrl,
        lang=(payload.lang or "en")[:8],
        token=PydanticSecret(payload.token),
        email=order.email,
    )
