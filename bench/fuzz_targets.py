"""Fuzz targets for the Ecwid payment request (decryption and parsing) and the bank's callback (parsing and
checksum), shared by the bounded property tests (``tests/fuzz``) and the long mode (``python -m bench.fuzz``).

Every generator is written against a small ``Source`` of choices (integers, bytes, text, a pick from a list), so
one piece of code is driven three ways: by hypothesis (``HypothesisSource``: shrinkable examples, bounded, in the
test suite), by a seeded ``random.Random`` (``RandomSource``: the long mode's fast loop) and by atheris'
``FuzzedDataProvider`` (``bench.fuzz --engine atheris``: coverage-guided).

Each generated case says, by construction, what the gateway must do with it:

- a token or form built from a genuine encryption opens, or is refused, or (CBC has no integrity) may be either;
  whatever is accepted must be a sane request (``check_sane``) and, when the case names the genuine payload,
  exactly that payload (``check_round_trip``): tampering with ``enc_data`` (AES-GCM) never yields another request;
- a callback is signed (the bank's checksum, computed here from protocols.md 2.8 and not with the gateway's code,
  over the parameters as werkzeug hands them to the view: first value of a repeated name, the query overriding the
  form) or it is not; unsigned ones are refused with 400 and change nothing; signed ones for an order the gateway
  never registered answer 200 and at most open one operator exception.

Oracles raise ``PropertyViolation``. An exception of the code under test other than the documented
``InvalidPaymentRequest`` is not caught here: it is the crash the fuzzing looks for.

The Ecwid side's encryption uses pycryptodome, independent of the gateway's ``cryptography`` code (as
``tests/gateway_fakes.py`` does). This module must not import ``tests`` (the long mode runs without them).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import io
import json
import random
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import Any, Protocol, TypeVar
from urllib.parse import quote, quote_plus, urlencode, urlsplit

from Crypto.Cipher import AES
from Crypto.Util.Padding import pad
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask.testing import FlaskClient
from hypothesis import strategies as st
from pydantic import SecretStr
from werkzeug.test import TestResponse

from gateway.domain.errors import InvalidPaymentRequest
from gateway.ecwid.crypto import decrypt_cbc, decrypt_gcm, key_from_secret
from gateway.ecwid.payment_request import PaymentRequest, parse_payment_request
from gateway.provider.checksum import verify_checksum
from gateway.provider.identifiers import callback_ids_well_formed
from gateway.web.guards import GatewayRequest
from gateway.web.params import BULK_PARAMETERS, MAX_PARAMETERS, MAX_VALUE_LENGTH, parameter_problem

T = TypeVar("T")

INT64_MAX = 2**63 - 1
MAX_FIELD_CHARS = 1_000_000  # parse_payment_request refuses a longer enc_data or data outright
# Never legitimate in a value we store, echo or log (C0, DEL, C1, lone surrogates): the documented contract of the
# Ecwid schema and of the request guard, restated here rather than imported.
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
B64STD = B64URL[:62] + "+/="
FORM = "application/x-www-form-urlencoded"


class PropertyViolation(AssertionError):
    """The gateway did something a property forbids (accepted a forgery, refused a genuine request...)."""


class ServerError(PropertyViolation):
    """The app answered 5xx: a crash seen from outside."""


# --- sources of choices ---------------------------------------------------------------------------------------------


class Source(Protocol):
    def integer(self, low: int, high: int) -> int: ...

    def raw(self, max_size: int) -> bytes: ...

    def text(self, max_size: int, alphabet: str | None = None) -> str: ...

    def pick(self, options: Sequence[T]) -> T: ...


# Character ranges the random source mixes (no surrogates: nothing decoded from HTTP or JSON text... except JSON's
# "\ud800" escapes, which the JSON mutations write on purpose).
_RANGES = (
    (0x20, 0x7E),  # printable ASCII
    (0x20, 0x7E),
    (0x00, 0x1F),  # C0 controls
    (0x7F, 0x9F),  # DEL, C1
    (0xA0, 0xFF),  # Latin-1
    (0x300, 0x36F),  # combining marks
    (0x400, 0x4FF),  # Cyrillic
    (0x531, 0x58A),  # Armenian
    (0x2000, 0x206F),  # spaces, zero-width, bidi overrides, line/paragraph separators
    (0x4E00, 0x9FFF),  # CJK
    (0xFE00, 0xFFFF),  # variation selectors, BOM, specials, U+FFFD, noncharacters
    (0x1F300, 0x1FAFF),  # emoji
    (0xE0000, 0x10FFFF),  # tags, private use, the last code point
)


_POOLS = tuple("".join(map(chr, range(low, high + 1))) for low, high in _RANGES)


class RandomSource:
    """Choices from a seeded ``random.Random``: sizes lean small, text mixes ASCII with awkward Unicode. Written
    for speed (the long mode's loop): floats scaled to ranges rather than ``randint``."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._random = rng.random

    def integer(self, low: int, high: int) -> int:
        span = high - low + 1
        return low + int(self._random() * span) if span < 2**32 else self._rng.randint(low, high)

    def _size(self, max_size: int) -> int:
        roll = self._random()
        limit = min(max_size, 16) if roll < 0.5 else min(max_size, 256) if roll < 0.85 else max_size
        return int(self._random() * (limit + 1))

    def raw(self, max_size: int) -> bytes:
        return self._rng.randbytes(self._size(max_size))

    def text(self, max_size: int, alphabet: str | None = None) -> str:
        size = self._size(max_size)
        if alphabet is not None:
            return "".join(self._rng.choices(alphabet, k=size))
        runs: list[str] = []
        length = 0
        while length < size:
            run = self._rng.choices(_POOLS[int(self._random() * len(_POOLS))], k=1 + int(self._random() * 12))
            runs.extend(run)
            length += len(run)
        return "".join(runs[:size])

    def pick(self, options: Sequence[T]) -> T:
        return options[int(self._random() * len(options))]


class HypothesisSource:
    """Choices drawn from hypothesis (``st.data()``), so failing examples shrink."""

    def __init__(self, data: st.DataObject) -> None:
        self._data = data

    def integer(self, low: int, high: int) -> int:
        return self._data.draw(st.integers(low, high))

    def raw(self, max_size: int) -> bytes:
        return self._data.draw(st.binary(max_size=max_size))

    def text(self, max_size: int, alphabet: str | None = None) -> str:
        if alphabet is not None:
            return self._data.draw(st.text(alphabet=alphabet, max_size=max_size))
        return self._data.draw(st.text(max_size=max_size))

    def pick(self, options: Sequence[T]) -> T:
        return self._data.draw(st.sampled_from(options))


def _fixed(src: Source, size: int) -> bytes:
    """Exactly ``size`` bytes from the source (zero-filled when it gives fewer)."""
    return (src.raw(size) + bytes(size))[:size]


def clean_text(src: Source, min_size: int, max_size: int) -> str:
    """Text without unsafe characters, between the given lengths."""
    text = UNSAFE.sub("", src.text(max_size))
    return (text + "x" * min_size)[: max(min_size, len(text))][:max_size]


# --- Ecwid's side of the payment request (protocols.md 1.1, 1.2) ----------------------------------------------------


def gcm_raw(plaintext: bytes, secret: str, nonce: bytes) -> bytes:
    """``nonce || ciphertext || tag(16)``, AES-128-GCM without AAD (Ecwid uses a 16-byte nonce). The AEAD primitive
    of ``cryptography``: pycryptodome's GCM costs about 1 ms to set up, too slow for the long mode (the tests check
    that both give the same bytes)."""
    if not nonce:
        raise ValueError("GCM needs a nonce")
    return nonce + AESGCM(secret[:16].encode("utf-8")).encrypt(nonce, plaintext, None)


def cbc_raw(plaintext: bytes, secret: str, iv: bytes) -> bytes:
    """``IV(16) || ciphertext``, AES-128-CBC with PKCS#7."""
    cipher = AES.new(secret[:16].encode("utf-8"), AES.MODE_CBC, iv=iv)
    return bytes(iv + cipher.encrypt(pad(plaintext, 16)))


def b64url(raw: bytes, *, padded: bool = False) -> str:
    text = base64.urlsafe_b64encode(raw).decode("ascii")
    return text if padded else text.rstrip("=")


@dataclass(frozen=True)
class Genuine:
    """A valid payment request as Ecwid encrypts it (both ways)."""

    payload: Mapping[str, Any]
    plaintext: bytes
    gcm: bytes
    cbc: bytes


@dataclass(frozen=True)
class EcwidFixture:
    """The store the gateway under test is configured with, and a pool of genuine requests for it."""

    client_secret: str
    store_id: int
    currencies: frozenset[str] = frozenset({"AMD", "USD"})
    wrong_secret: str = "another-apps-client-secret-0000000"  # noqa: S105 (a made-up key that must not work)
    pool_size: int = 16

    @cached_property
    def secrets(self) -> dict[int, SecretStr]:
        return {self.store_id: SecretStr(self.client_secret)}

    @cached_property
    def key(self) -> bytes:
        return key_from_secret(self.client_secret)

    @cached_property
    def pool(self) -> tuple[Genuine, ...]:
        src = RandomSource(random.Random(20250516))  # the same pool on every run
        return tuple(self.encrypt(src, valid_payload(src, self)) for _ in range(self.pool_size))

    def encrypt(self, src: Source, payload: Mapping[str, Any]) -> Genuine:
        plaintext = json.dumps(payload, ensure_ascii=src.pick((True, False))).encode("utf-8")
        return Genuine(
            payload,
            plaintext,
            gcm_raw(plaintext, self.client_secret, _fixed(src, 16)),
            cbc_raw(plaintext, self.client_secret, _fixed(src, 16)),
        )


def valid_payload(src: Source, fx: EcwidFixture) -> dict[str, Any]:
    """A request the gateway must accept (protocols.md 1.2), with awkward but valid values."""
    currency = src.pick(sorted(fx.currencies))
    currency_text = src.pick((currency, currency.lower()))  # the gateway reads the code case-insensitively
    cents = src.integer(1, src.pick((10_000, 10**9, 10**12)))
    total: int | float = cents // 100 if cents % 100 == 0 and src.pick((True, False)) else cents / 100
    host = src.pick(("mystore.example", "shop.company.site", "127.0.0.1:8443", "[::1]", "xn--e1afmkfd.example"))
    path = src.text(120, alphabet="abcXYZ019-._~/?&=%+:@!$'()*,;#")
    order: dict[str, Any] = {
        "id": clean_text(src, 1, 64),
        # One reference, one amount: the gateway refuses a known order whose amount changed.
        "referenceTransactionId": clean_text(src, 1, 160) + f"~{currency_text}{cents}",
        "total": total,
        "paymentStatus": "INCOMPLETE",
        "items": [{"name": clean_text(src, 0, 40), "price": total, "quantity": 1}],
    }
    if src.pick((True, False)):
        order["internalId"] = src.integer(0, src.pick((10**6, INT64_MAX)))
    if src.pick((True, False)):
        order["email"] = clean_text(src, 0, 200)
    payload: dict[str, Any] = {
        "storeId": fx.store_id,
        "returnUrl": f"{src.pick(('https', 'http', 'HTTPS'))}://{host}/{path}",
        "token": clean_text(src, 1, 200),
        "cart": {"currency": currency_text, "order": order},
        "merchantAppSettings": {clean_text(src, 0, 20): clean_text(src, 0, 40)},
    }
    if src.pick((True, False)):
        payload["lang"] = src.pick(("en", "hy", "ru", "am", "", "pt-BR-x-long-tag", clean_text(src, 0, 32)))
    return payload


_PATHS: tuple[tuple[str, ...], ...] = (
    ("storeId",),
    ("returnUrl",),
    ("token",),
    ("lang",),
    ("merchantAppSettings",),
    ("cart",),
    ("cart", "currency"),
    ("cart", "order"),
    ("cart", "order", "id"),
    ("cart", "order", "internalId"),
    ("cart", "order", "referenceTransactionId"),
    ("cart", "order", "total"),
    ("cart", "order", "email"),
    ("cart", "order", "items"),
)
DEEP_NESTING = (10, 500, 999, 1_000, 3_000, 100_000)


def junk_json(src: Source, fx: EcwidFixture) -> bytes:
    """A genuine payload after 1-3 structural mutations (missing fields, wrong types, huge numbers, NaN, unicode,
    lone surrogates, deep nesting, another top level), then perhaps a text mutation and another encoding."""
    payload: Any = copy.deepcopy(dict(src.pick(fx.pool).payload))
    raw_values: dict[str, str] = {}  # placeholder -> JSON text that json.dumps cannot write
    for _ in range(src.integer(1, 3)):
        operation = src.pick(("drop", "set", "set", "set", "top"))
        if operation == "top":
            payload = src.pick(([payload], "payload", 1003, None, [], {}))
            continue
        path = src.pick(_PATHS)
        parent = payload
        for name in path[:-1]:
            parent = parent.get(name) if isinstance(parent, dict) else None
        if not isinstance(parent, dict):
            continue
        if operation == "drop":
            parent.pop(path[-1], None)
        else:
            parent[path[-1]] = _junk_value(src, raw_values)
    text = json.dumps(payload, ensure_ascii=src.pick((True, False)), allow_nan=True)
    for placeholder, raw in raw_values.items():
        text = text.replace(json.dumps(placeholder), raw)
    text = _mutate_text(src, text)
    encoding = src.pick(("utf-8", "utf-8", "utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-32", "latin-1"))
    return text.encode(encoding, "surrogatepass" if encoding.startswith("utf") else "replace")


def _junk_value(src: Source, raw_values: dict[str, str]) -> Any:
    kind = src.pick(
        ("none", "bool", "int", "float", "str", "unsafe", "surrogate", "long", "list", "dict", "deep", "huge")
    )
    if kind == "none":
        return None
    if kind == "bool":
        return src.pick((True, False))
    if kind == "int":
        return src.pick((0, -1, 1, 1003, INT64_MAX, INT64_MAX + 1, -(2**63) - 1, 10**30, -(10**18)))
    if kind == "float":
        return src.pick((float("nan"), float("inf"), float("-inf"), 1e308, 5e-324, -0.0, 0.1, 0.005, 2014.97))
    if kind == "str":
        return src.text(300)
    if kind == "unsafe":
        return clean_text(src, 0, 20) + src.pick(("\x00", "\n", "\x7f", "\x85", "\u2028")) + clean_text(src, 0, 20)
    if kind == "surrogate":
        return src.pick(("\ud800", "x\udfff", "\udbff\udbff"))
    if kind == "long":
        return "A" * src.pick((257, 1025, 8193, 100_000))
    if kind == "list":
        return [src.text(10), src.integer(-5, 5)]
    if kind == "dict":
        return {src.text(10): src.text(10)}
    placeholder = f"@@raw{len(raw_values)}@@"
    if kind == "deep":
        depth = src.pick(DEEP_NESTING)
        raw_values[placeholder] = src.pick(("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth))
    else:
        digits = src.pick((400, 4_300, 4_301, 20_000))
        raw_values[placeholder] = src.pick(
            ("1" + "0" * digits, "-" + "9" * digits, f"1e{digits}", "0." + "0" * digits + "1", "1" * digits + ".5")
        )
    return placeholder


def _mutate_text(src: Source, text: str) -> str:
    operation = src.pick(("none", "none", "insert", "delete", "truncate", "append", "bom", "duplicate", "quotes"))
    at = src.integer(0, len(text))
    if operation == "insert":
        return text[:at] + src.text(8) + text[at:]
    if operation == "delete":
        return text[:at] + text[at + src.integer(1, 8) :]
    if operation == "truncate":
        return text[:at]
    if operation == "append":
        return text + src.pick((" ", "\n", "x", "}", ",", "\x00", "{}"))
    if operation == "bom":
        return "\ufeff" + text
    if operation == "duplicate":  # JSON keeps the last of a repeated key
        return text.replace("{", '{"storeId": 1, "cart": null, ', 1) if src.pick((True, False)) else text + text
    if operation == "quotes":
        return text.replace('"', "'")
    return text


class Verdict(StrEnum):
    """What decryption must do with a token."""

    OPENS = "opens"  # decrypts to ``plaintext`` exactly
    REFUSED = "refused"  # raises InvalidPaymentRequest
    SAME_OR_REFUSED = "same_or_refused"  # opens to ``plaintext`` or is refused (authenticated encryption)
    ANY = "any"  # no crash; what it opens to is attacker-chosen and validated as such


@dataclass(frozen=True)
class TokenCase:
    mode: str  # "gcm" (enc_data) or "cbc" (data)
    kind: str
    token: str
    verdict: Verdict
    plaintext: bytes | None = None  # what it must open to (OPENS, SAME_OR_REFUSED)
    payload: Mapping[str, Any] | None = None  # set when ``plaintext`` is a genuine payload
    # CBC has no integrity: a wrong key or a probed padding may still "open" (1 in 256), but only to garbage that
    # can never be a valid request. Such a token is ANY for decryption and refused for parsing.
    garbled: bool = False


TOKEN_KINDS = (
    "pristine",
    "fresh",
    "flip_bit",
    "truncate_raw",
    "truncate_text",
    "extend",
    "wrong_key",
    "iv_length",
    "b64_junk",
    "b64_edit",
    "junk_bytes",
    "junk_json",
    "splice",
    "padding_probe",
    "other_mode",
    "empty",
)


def token_case(src: Source, fx: EcwidFixture, mode: str, kind: str | None = None) -> TokenCase:
    """One token for ``mode`` ("gcm" or "cbc"): genuine, mutated from a genuine one, or junk."""
    kind = kind or src.pick(TOKEN_KINDS)
    gcm = mode == "gcm"
    genuine = src.pick(fx.pool)
    raw = genuine.gcm if gcm else genuine.cbc
    text = b64url(raw)

    def opens(token: str, plaintext: bytes, payload: Mapping[str, Any] | None) -> TokenCase:
        return TokenCase(mode, kind, token, Verdict.OPENS, plaintext, payload)

    def refused(token: str) -> TokenCase:
        return TokenCase(mode, kind, token, Verdict.REFUSED)

    def refused_or_garbled(token: str) -> TokenCase:
        return refused(token) if gcm else TokenCase(mode, kind, token, Verdict.ANY, garbled=True)

    def encrypt(plaintext: bytes, secret: str = fx.client_secret) -> bytes:
        iv = _fixed(src, 16)
        return gcm_raw(plaintext, secret, iv) if gcm else cbc_raw(plaintext, secret, iv)

    if kind == "pristine":
        token = b64url(raw, padded=src.pick((True, False)))
        return opens(" " * src.integer(0, 2) + token + " " * src.integer(0, 2), genuine.plaintext, genuine.payload)
    if kind == "fresh":
        made = fx.encrypt(src, valid_payload(src, fx))
        return opens(b64url(made.gcm if gcm else made.cbc), made.plaintext, made.payload)
    if kind == "flip_bit":
        bit = src.integer(0, len(raw) * 8 - 1)
        flipped = bytearray(raw)
        flipped[bit // 8] ^= 1 << (bit % 8)
        token = b64url(bytes(flipped))
        return refused(token) if gcm else TokenCase(mode, kind, token, Verdict.ANY)
    if kind == "truncate_raw":  # also cuts the GCM tag; CBC then ends on a JSON byte, never on valid padding
        return refused(b64url(raw[: src.integer(0, len(raw) - 1)]))
    if kind == "truncate_text":  # every shorter base64 text decodes to fewer bytes, or to nothing
        return refused(text[: src.integer(0, len(text) - 1)])
    if kind == "extend":
        return refused_or_garbled(b64url(raw + (src.raw(64) or b"\x00")))
    if kind == "wrong_key":
        return refused_or_garbled(b64url(encrypt(genuine.plaintext, fx.wrong_secret)))
    if kind == "iv_length":
        size = src.pick((0, 8, 12, 15, 17, 24, 32))
        if gcm:
            if size == 0:
                return refused(b64url(raw[16:]))
            return refused(b64url(gcm_raw(genuine.plaintext, fx.client_secret, _fixed(src, size))))
        return refused_or_garbled(b64url(_fixed(src, size) + raw[16:]))  # a lost or extra first block
    if kind == "b64_junk":
        alphabet = src.pick((B64URL, B64STD, B64URL + "= .!~%", None))
        return refused_or_garbled(src.text(4096, alphabet=alphabet))
    if kind == "b64_edit":
        token = _edit_base64(src, text)
        if gcm:
            return TokenCase(mode, kind, token, Verdict.SAME_OR_REFUSED, genuine.plaintext, genuine.payload)
        return TokenCase(mode, kind, token, Verdict.ANY)
    if kind in ("junk_bytes", "junk_json"):
        plaintext = src.raw(2048) if kind == "junk_bytes" else junk_json(src, fx)
        if gcm and not plaintext:  # IV and tag alone: the gateway refuses an empty GCM message as too short
            return refused(b64url(encrypt(plaintext)))
        return opens(b64url(encrypt(plaintext)), plaintext, None)
    if kind == "splice":  # another IV (nonce) in front of the same ciphertext
        iv = _fixed(src, 16)
        if iv == raw[:16]:
            return opens(b64url(raw), genuine.plaintext, genuine.payload)
        return refused_or_garbled(b64url(iv + raw[16:]))  # CBC: the first block becomes random
    if kind == "padding_probe" and not gcm:
        # The padding-oracle probe: the last byte of the second-to-last block decides whether the padding checks.
        # Good padding then garbles the block before it, so JSON fails: both ends must look the same.
        value = src.integer(0, 255)
        probed = bytearray(raw)
        original = probed[-17]
        probed[-17] = value
        if value == original:
            return opens(b64url(bytes(probed)), genuine.plaintext, genuine.payload)
        return refused_or_garbled(b64url(bytes(probed)))
    if kind in ("other_mode", "padding_probe"):
        return refused_or_garbled(b64url(genuine.cbc if gcm else genuine.gcm))
    return refused(src.pick(("", " ", "=", "==", "====", "\u3000")))


def _edit_base64(src: Source, text: str) -> str:
    at = src.integer(0, len(text) - 1)
    operation = src.pick(("insert", "delete", "replace", "case", "standard", "padding"))
    if operation == "insert":
        return text[:at] + src.pick(("=", "+", "/", "-", "A", ".", "!", " ", "é", "\u200b")) + text[at:]
    if operation == "delete":
        return text[:at] + text[at + 1 :]
    if operation == "replace":
        return text[:at] + src.pick(B64URL) + text[at + 1 :]
    if operation == "case":
        return text[:at] + text[at].swapcase() + text[at + 1 :]
    if operation == "standard":  # the standard alphabet's '+' '/' for '-' '_': the same bytes
        return text.replace("-", "+").replace("_", "/")
    return text + "=" * src.integer(1, 5)


def check_decrypt(case: TokenCase, key: bytes) -> bool:
    """The crypto layer alone: only ``InvalidPaymentRequest``, and the verdict holds. True when it opened."""
    decrypt = decrypt_gcm if case.mode == "gcm" else decrypt_cbc
    try:
        plaintext = decrypt(case.token, key)
    except InvalidPaymentRequest:
        if case.verdict is Verdict.OPENS:
            raise PropertyViolation(f"{case.mode}/{case.kind}: a genuine encryption did not open") from None
        return False
    if case.verdict is Verdict.REFUSED:
        raise PropertyViolation(f"{case.mode}/{case.kind}: opened a token that must be refused")
    if case.verdict in (Verdict.OPENS, Verdict.SAME_OR_REFUSED) and plaintext != case.plaintext:
        raise PropertyViolation(f"{case.mode}/{case.kind}: opened to another plaintext")
    return True


class Expect(StrEnum):
    """What parsing the whole form must give."""

    ACCEPTED = "accepted"  # a request equal to ``payload``
    REFUSED = "refused"  # InvalidPaymentRequest
    SAME_OR_REFUSED = "same_or_refused"  # a request equal to ``payload``, or refused
    ANY = "any"  # no crash; an accepted request is sane


@dataclass(frozen=True)
class FormCase:
    kind: str
    pairs: tuple[tuple[str, str], ...]  # as POSTed, in order
    expect: Expect
    payload: Mapping[str, Any] | None = None

    def mapping(self) -> dict[str, str]:
        """The parameters as the view reads them: the first value of a repeated name."""
        first: dict[str, str] = {}
        for name, value in self.pairs:
            first.setdefault(name, value)
        return first


def _gcm_outcome(case: TokenCase | None) -> str:
    if case is None or not case.token:
        return "absent"
    if case.verdict is Verdict.OPENS:
        return "genuine" if case.payload is not None else "authentic_junk"
    return {Verdict.REFUSED: "not_authentic", Verdict.SAME_OR_REFUSED: "same_or_not"}.get(case.verdict, "any")


def _cbc_outcome(case: TokenCase | None) -> tuple[Expect, Mapping[str, Any] | None]:
    if case is None or not case.token or case.verdict is Verdict.REFUSED or case.garbled:
        return Expect.REFUSED, None
    if case.verdict is Verdict.OPENS and case.payload is not None:
        return Expect.ACCEPTED, case.payload
    return Expect.ANY, None


def expected_outcome(enc: TokenCase | None, data: TokenCase | None) -> tuple[Expect, Mapping[str, Any] | None]:
    """The documented rule (gateway/ecwid/payment_request.py): an authentic ``enc_data`` decides alone; only when
    none authenticates is ``data`` tried."""
    if any(c is not None and len(c.token) > MAX_FIELD_CHARS for c in (enc, data)):
        return Expect.REFUSED, None
    gcm = _gcm_outcome(enc)
    if gcm == "genuine":
        assert enc is not None
        return Expect.ACCEPTED, enc.payload
    if gcm in ("authentic_junk", "any"):
        return Expect.ANY, None
    fallback, fallback_payload = _cbc_outcome(data)
    if gcm in ("absent", "not_authentic"):
        return fallback, fallback_payload
    assert enc is not None  # same_or_not: the genuine enc_data, or the fallback
    if fallback is Expect.ACCEPTED and fallback_payload == enc.payload:
        return Expect.ACCEPTED, enc.payload
    if fallback is Expect.REFUSED:
        return Expect.SAME_OR_REFUSED, enc.payload
    return Expect.ANY, None


FORM_LAYOUTS = ("enc", "data", "both", "both", "both_tampered_data", "swapped", "duplicate", "none")


def form_case(src: Source, fx: EcwidFixture, *, oversize: bool = False) -> FormCase:
    """A form as a browser could POST it: ``enc_data`` and/or ``data`` (genuine, tampered or junk), perhaps
    repeated, perhaps with other fields. ``oversize``: sometimes a field beyond the parser's size limit (the
    HTTP layer refuses such bodies earlier, with 413)."""
    layout = src.pick((*FORM_LAYOUTS, "oversize") if oversize else FORM_LAYOUTS)
    enc: TokenCase | None = None
    data: TokenCase | None = None
    pairs: list[tuple[str, str]] = []
    if layout in ("enc", "both"):
        enc = token_case(src, fx, "gcm")
    if layout in ("data", "both", "both_tampered_data"):
        data = token_case(src, fx, "cbc")
    if layout == "both_tampered_data":
        enc = token_case(src, fx, "gcm", src.pick(("pristine", "fresh")))
    if layout == "swapped":
        enc = token_case(src, fx, "gcm", "other_mode")
        data = token_case(src, fx, "cbc", "other_mode")
    if layout == "oversize":
        enc = token_case(src, fx, "gcm", "pristine")
        enc = TokenCase("gcm", "oversize", enc.token + " " * MAX_FIELD_CHARS, Verdict.REFUSED)
        data = token_case(src, fx, "cbc", "pristine")
    if layout == "duplicate":  # the view reads the first value of a repeated field
        first, second = token_case(src, fx, "gcm"), token_case(src, fx, "gcm")
        pairs += [("enc_data", first.token), ("enc_data", second.token)]
        enc = first
    if enc is not None and layout != "duplicate":
        pairs.append(("enc_data", enc.token))
    if data is not None:
        pairs.append(("data", data.token))
    for _ in range(src.pick((0, 0, 0, 1, 3))):  # other fields, anywhere: the view ignores them
        name = src.pick(("lang", "storeId", "x", clean_text(src, 1, 70)))
        if name not in ("enc_data", "data"):
            pairs.insert(src.integer(0, len(pairs)), (name, src.text(300)))
    expect, payload = expected_outcome(enc, data)
    kinds = "+".join(f"{name}:{case.kind}" for name, case in (("enc", enc), ("data", data)) if case is not None)
    return FormCase(f"{layout}[{kinds}]", tuple(pairs), expect, payload)


def check_sane(request: PaymentRequest, fx: EcwidFixture) -> None:
    """What any accepted request must satisfy, whoever chose its content."""
    strings = [request.ecwid_order_id, request.reference_transaction_id, request.return_url, request.lang]
    strings += [request.token.get_secret_value(), request.email or ""]
    if any(UNSAFE.search(value) for value in strings):
        raise PropertyViolation("accepted a request with a control character or a lone surrogate")
    parts = urlsplit(request.return_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PropertyViolation("accepted a returnUrl that is not an absolute http(s) URL")
    if request.store_id not in fx.secrets or request.amount.currency not in fx.currencies:
        raise PropertyViolation("accepted a request for a store or currency the gateway does not serve")
    if not 0 < request.amount.minor <= INT64_MAX or not request.token.get_secret_value():
        raise PropertyViolation("accepted a request without a positive amount or a token")


def check_round_trip(request: PaymentRequest, payload: Mapping[str, Any]) -> None:
    """The parsed request says exactly what the genuine payload says."""
    order = payload["cart"]["order"]
    expected = (
        payload["storeId"],
        order["id"],
        order.get("internalId"),
        order["referenceTransactionId"],
        payload["cart"]["currency"].upper(),
        int(Decimal(str(order["total"])).scaleb(2)),  # the fixture's currencies all have 2 minor digits
        payload["returnUrl"],
        (payload.get("lang") or "en")[:8],
        payload["token"],
        order.get("email"),
    )
    got = (
        request.store_id,
        request.ecwid_order_id,
        request.ecwid_internal_id,
        request.reference_transaction_id,
        request.amount.currency,
        request.amount.minor,
        request.return_url,
        request.lang,
        request.token.get_secret_value(),
        request.email,
    )
    if got != expected:
        differ = [i for i, (a, b) in enumerate(zip(got, expected, strict=True)) if a != b]
        raise PropertyViolation(f"the parsed request differs from the genuine payload (fields {differ})")


def check_parse(case: FormCase, fx: EcwidFixture) -> bool:
    """``parse_payment_request`` alone: only ``InvalidPaymentRequest``, and the expectation holds. True when
    accepted."""
    try:
        request = parse_payment_request(case.mapping(), fx.secrets, fx.currencies)
    except InvalidPaymentRequest:
        if case.expect is Expect.ACCEPTED:
            raise PropertyViolation(f"{case.kind}: a genuine request was refused") from None
        return False
    check_sane(request, fx)
    if case.expect is Expect.REFUSED:
        raise PropertyViolation(f"{case.kind}: accepted a request that must be refused")
    if case.payload is not None and case.expect in (Expect.ACCEPTED, Expect.SAME_OR_REFUSED):
        check_round_trip(request, case.payload)
    return True


def guard_refuses(pairs: Sequence[tuple[str, str]], path: str) -> bool:
    """True when the request guard (gateway/web/guards.py) refuses these parameters before any view: 400."""
    bulk = BULK_PARAMETERS.get(path, frozenset())
    if len(pairs) > MAX_PARAMETERS:
        return True
    limit = MAX_VALUE_LENGTH
    return any(parameter_problem(n, v, max_value_length=None if n in bulk else limit) for n, v in pairs)


def answer_class(response: TestResponse) -> str:
    """Everything a client can see of an answer except its request id: status, headers, body."""
    headers = sorted((k.lower(), v) for k, v in response.headers.items() if k.lower() != "x-request-id")
    digest = hashlib.sha256(repr(headers).encode() + b"\n" + response.get_data()).hexdigest()[:12]
    return f"{response.status_code} {response.mimetype} {digest}"


TOO_LARGE = ""
"""``EcwidApp.post``'s answer to a body over the size limit: 413 before anything is read, an unclassed refusal
(its size, which the sender chose, decides it: no oracle about decryption)."""


class EcwidApp:
    """The paymentUrl through a real Flask app: no 5xx; a refusal is a 400 and ``post`` returns its answer class
    (every decrypt failure must share one); an accepted request redirects (303) to the bank page; a body over
    ``max_request_bytes`` (the gateway's setting) is refused with 413."""

    PATH = "/ecwid/payment"

    def __init__(self, client: FlaskClient, max_request_bytes: int = 1024 * 1024) -> None:
        self.client = client
        self.max_request_bytes = max_request_bytes

    def post(self, case: FormCase) -> str | None:
        """The refusal's answer class (``TOO_LARGE`` for a body over the limit), or None when accepted."""
        body = urlencode(case.pairs)
        response = self.client.post(self.PATH, data=body, content_type=FORM)
        status = response.status_code
        if status >= 500:
            raise ServerError(f"{case.kind}: server error {status}")
        if len(body.encode()) > self.max_request_bytes or status == 413:
            if status != 413 or len(body.encode()) <= self.max_request_bytes:
                raise PropertyViolation(f"{case.kind}: {len(body.encode())} bytes answered {status}")
            return TOO_LARGE
        refused_by_guard = guard_refuses(case.pairs, self.PATH)
        if status == 303:
            if case.expect is Expect.REFUSED or refused_by_guard:
                raise PropertyViolation(f"{case.kind}: accepted a request that must be refused")
            if not response.headers.get("Location"):
                raise PropertyViolation(f"{case.kind}: a redirect without a Location")
            return None
        if status != 400:
            raise PropertyViolation(f"{case.kind}: unexpected status {status}")
        if case.expect is Expect.ACCEPTED and not refused_by_guard:
            raise PropertyViolation(f"{case.kind}: a genuine request was refused")
        return answer_class(response)


# --- the bank's callback (protocols.md 2.8) --------------------------------------------------------------------------


def bank_checksum(params: Mapping[str, str], key: str) -> str:
    """The bank's checksum, from the protocol text: drop checksum and sign_alias, sort by name, ``name;value;``,
    HMAC-SHA256 with the shared key, upper-case hex."""
    message = "".join(f"{name};{params[name]};" for name in sorted(params) if name not in ("checksum", "sign_alias"))
    return hmac.new(key.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest().upper()


@dataclass(frozen=True)
class CallbackCase:
    kind: str
    method: str  # GET or POST
    query: bytes  # the raw query string, as on the wire
    body: bytes  # the urlencoded form body (POST)
    signed: bool  # carries the bank's checksum over what the view reads
    view: tuple[tuple[str, str], ...] = ()  # the parameters as the view reads them (when well-formed)

    def exception_key(self) -> tuple[str, str, str] | None:
        """What makes an unknown-order exception distinct (its detail names these), or None when this callback
        must not open one: only a signed status 1 about well-formed ids does."""
        params = dict(self.view)
        if not self.signed or params.get("status") != "1" or not callback_ids_well_formed(params):
            return None
        return params.get("operation", "")[:32], params.get("mdOrder", "")[:64], params.get("orderNumber", "")[:32]

    def environ(self) -> dict[str, Any]:
        """A WSGI environ for werkzeug's request parsing (the fast path)."""
        return {
            "REQUEST_METHOD": self.method,
            "QUERY_STRING": self.query.decode("latin-1"),
            "CONTENT_TYPE": FORM if self.method == "POST" else "",
            "CONTENT_LENGTH": str(len(self.body)),
            "wsgi.input": io.BytesIO(self.body),
            "wsgi.url_scheme": "http",
            "SERVER_NAME": "gateway.fuzz",
            "SERVER_PORT": "80",
            "PATH_INFO": "/vpos/callback",
        }


CALLBACK_STYLES = (
    "signed",
    "signed_lower",
    "signed_extra",
    "signed_post",
    "signed_split",
    "signed_dup_same",
    "signed_sign_alias",
    "missing",
    "empty",
    "random_hex",
    "junk_text",
    "wrong_key",
    "changed_value",
    "added_param",
    "removed_param",
    "renamed_param",
    "renamed_checksum",
    "dup_checksum_forged_first",
    "dup_checksum_genuine_first",
    "truncated",
    "longer",
    "plain_sha256",
    "sha512",
    "no_trailing_semicolon",
    "dup_param_second_signed",
    "query_overrides_body",
    "raw_junk",
    "too_many",
    "too_long",
    "control_char",
)
OPERATIONS = ("approved", "deposited", "reversed", "refunded", "declinedByTimeout")


def _bank_params(src: Source) -> list[tuple[str, str]]:
    """What a bank could send about an order this gateway never registered (unique names)."""
    md_order = src.pick((str(uuid.UUID(bytes=_fixed(src, 16))), clean_text(src, 0, 80), "", None))
    order_number = src.pick(("V" + src.text(11, alphabet="0123456789ABCDEFGHJKMNPQRSTVWXYZ"), clean_text(src, 0, 40)))
    params = [("orderNumber", order_number)] if src.pick((True, True, False)) else []
    if md_order is not None:
        params.append(("mdOrder", md_order))
    params.append(("operation", src.pick((*OPERATIONS, clean_text(src, 0, 40)))))
    params.append(("status", src.pick(("1", "0", "2", clean_text(src, 0, 8)))))
    if src.pick((True, False)):
        params.append(("amount", src.pick((str(src.integer(0, 10**12)), "9" * 2000, "-1", "1.5", "1e9"))))
    if src.pick((True, False)):
        params.append(("callbackCreationDate", src.pick(("Mon Jun 30 12:00:00 AMT 2025", clean_text(src, 0, 60)))))
    return params


def _extra_params(src: Source, taken: set[str]) -> list[tuple[str, str]]:
    extra = []
    for _ in range(src.integer(1, 4)):
        name = clean_text(src, 1, 64)
        if name not in taken and name not in ("checksum", "sign_alias") and not name.isspace():
            taken.add(name)
            extra.append((name, clean_text(src, 0, 300)))
    return extra


def _encode(pairs: Sequence[tuple[str, str]], src: Source) -> bytes:
    quote_via = src.pick((quote_plus, quote))
    return urlencode(list(pairs), quote_via=quote_via).encode("ascii")


def callback_case(src: Source, key: str, wrong_key: str = "not-the-banks-callback-key-000") -> CallbackCase:
    """One callback, signed or forged by construction (``CALLBACK_STYLES``)."""
    style = src.pick(CALLBACK_STYLES)
    if style == "raw_junk":  # any bytes, as a sloppy client or an attacker sends them (not always UTF-8)
        shape = src.pick(("bytes", "text", "syntax"))
        if shape == "bytes":
            query = src.raw(512)
        elif shape == "text":
            query = src.text(512).encode("utf-8")
        else:
            query = src.text(512, alphabet="&=%;+?#[]aZ09é\xff").encode("latin-1")
        return CallbackCase(style, src.pick(("GET", "POST")), query, src.raw(512), signed=False)
    params = _bank_params(src)
    taken = {name for name, _ in params}
    if style in ("signed_extra", "added_param", "renamed_checksum") or src.pick((False, False, False, True)):
        params += _extra_params(src, taken)
    if style == "signed_sign_alias":
        params.append(("sign_alias", clean_text(src, 0, 40)))
    if style == "too_many":
        params += [(f"p{i}", "1") for i in range(MAX_PARAMETERS + 1 - len(params))]
    if style == "too_long":
        params.append(("note", "x" * (MAX_VALUE_LENGTH + 1)))
    if style == "control_char":
        params.append(("note", clean_text(src, 0, 10) + src.pick(("\x00", "\t", "\r\n", "\x7f", "\x85"))))
    signed_over = dict(params)
    genuine = bank_checksum(signed_over, key)
    checksum: str | None = genuine
    signed = True
    method = (
        "POST" if style in ("signed_post", "signed_split", "query_overrides_body") else src.pick(("GET", "GET", "POST"))
    )
    query_pairs: list[tuple[str, str]] = []
    body_pairs: list[tuple[str, str]] = []

    def forged(value: str | None) -> None:
        nonlocal checksum, signed
        checksum, signed = value, False

    if style == "signed_lower":
        checksum = genuine.lower()
    elif style == "missing":
        forged(None)
    elif style == "empty":
        forged("")
    elif style == "random_hex":
        forged(src.text(64, alphabet="0123456789ABCDEFabcdef"))
    elif style == "junk_text":
        forged(clean_text(src, 0, 100))
    elif style == "wrong_key":
        forged(bank_checksum(signed_over, wrong_key))
    elif style == "changed_value":
        at = src.integer(0, len(params) - 1)
        params[at] = (params[at][0], params[at][1] + src.pick(("x", "0", " ", "é")))
        forged(genuine)
    elif style == "added_param":  # the extras were added before signing: sign without the last one
        forged(bank_checksum(dict(params[:-1]), key) if params[-1][0] not in ("checksum", "sign_alias") else "0")
    elif style == "removed_param":
        params.pop(src.integer(0, len(params) - 1))
        forged(genuine)
    elif style == "renamed_param":  # names are case-sensitive: MDORDER is not mdOrder
        at = src.integer(0, len(params) - 1)
        name = params[at][0]
        renamed = name.upper() if name != name.upper() else name.lower()
        while renamed == name or renamed in taken or renamed in ("checksum", "sign_alias"):
            renamed += "_"
        params[at] = (renamed, params[at][1])
        forged(genuine)
    elif style == "renamed_checksum":
        params.append((src.pick(("Checksum", "CHECKSUM", "checkSum", "check_sum", "checksum_")), genuine))
        forged(None)
    elif style in ("dup_checksum_forged_first", "dup_checksum_genuine_first"):
        other = src.text(64, alphabet="0123456789ABCDEF")
        first, second = (other, genuine) if style == "dup_checksum_forged_first" else (genuine, other)
        params += [("checksum", first), ("checksum", second)]
        checksum = None
        signed = style == "dup_checksum_genuine_first" or first.upper() == genuine
    elif style == "truncated":
        forged(genuine[: src.integer(0, 63)])
    elif style == "longer":
        forged(genuine + src.pick(("0", "A", "00")))
    elif style == "plain_sha256":
        forged(hashlib.sha256(_checksum_text(signed_over)).hexdigest().upper())
    elif style == "sha512":
        forged(hmac.new(key.encode(), _checksum_text(signed_over), hashlib.sha512).hexdigest().upper())
    elif style == "no_trailing_semicolon":
        forged(hmac.new(key.encode(), _checksum_text(signed_over)[:-1], hashlib.sha256).hexdigest().upper())
    elif style == "dup_param_second_signed":  # the view reads the first value; the bank signed the second
        at = src.integer(0, len(params) - 1)
        name, value = params[at]
        params.insert(at, (name, value + "0"))
        forged(genuine)
    elif style == "signed_dup_same":
        at = src.integer(0, len(params) - 1)
        params.insert(at + 1, params[at])
    elif style in ("too_many", "too_long", "control_char"):
        signed = False  # signed, but the guard refuses it before the checksum: 400 all the same
    if checksum is not None:
        params.insert(src.integer(0, len(params)), ("checksum", checksum))
    if style == "signed_split":  # some in the query, the rest in the body
        cut = src.integer(0, len(params))
        query_pairs, body_pairs = params[:cut], params[cut:]
    elif style == "query_overrides_body":  # the view lets the query override the form
        name, value = src.pick([p for p in params if p[0] not in ("checksum", "sign_alias")])
        body_pairs, query_pairs = params, [(name, value + "1")]
        signed = False
    elif method == "POST":
        body_pairs = params
    else:
        query_pairs = params
    view = dict(reversed(body_pairs)) if method == "POST" else {}  # first value of a repeated name
    view.update(dict(reversed(query_pairs)))  # the query overrides the form
    query, body = _encode(query_pairs, src), _encode(body_pairs, src)
    return CallbackCase(style, method, query, body, signed, tuple(view.items()))


def _checksum_text(params: Mapping[str, str]) -> bytes:
    return "".join(f"{n};{params[n]};" for n in sorted(params) if n not in ("checksum", "sign_alias")).encode()


def check_callback_parsing(case: CallbackCase, key: str) -> bool:
    """The callback's parsing path without the app: werkzeug's parsing through the gateway's request class, the
    request guard's checks, the view's merge (form, then the query overrides), the checksum and the id check.
    True when the callback gets past the checksum; it must exactly when it is signed."""
    request = GatewayRequest(case.environ())
    try:
        request.query_string.decode("utf-8")
    except UnicodeDecodeError:
        utf8 = False
    else:
        utf8 = True
    items = [*request.args.items(multi=True), *request.form.items(multi=True)]
    params = request.form.to_dict() if case.method == "POST" else {}
    params.update(request.args.to_dict())
    accepted = utf8 and not guard_refuses(items, "/vpos/callback") and verify_checksum(params, key)
    callback_ids_well_formed(params)
    if accepted != case.signed:
        raise PropertyViolation(f"{case.kind}: {'accepted a forged' if accepted else 'refused a signed'} callback")
    return accepted


Counts = Callable[[], Mapping[str, int]]


@dataclass
class CallbackApp:
    """The callback endpoint through a real Flask app over a database with no attempt the cases could name:
    never a 5xx; unsigned -> 400 and no change at all; signed -> 200 ("unknown order") and nothing changes but,
    for a status 1 (money moved), one open operator exception per bank order and operation (architecture.md:
    a payment on an unknown order goes to the operators). Assumes no operator resolves them meanwhile."""

    client: FlaskClient
    row_counts: Counts
    exceptions_opened: set[tuple[str, str, str]] = field(default_factory=set)

    PATH = "/vpos/callback"

    def send(self, case: CallbackCase) -> str | None:
        """The refusal's answer class, or None when the callback was taken (200)."""
        before = dict(self.row_counts())
        response = self.client.open(
            self.PATH,
            method=case.method,
            data=case.body if case.method == "POST" else None,
            content_type=FORM if case.method == "POST" else None,
            environ_overrides={"QUERY_STRING": case.query.decode("latin-1")},
        )
        after = dict(self.row_counts())
        status = response.status_code
        if status >= 500:
            raise ServerError(f"{case.kind}: server error {status}")
        if not case.signed:
            if status != 400:
                raise PropertyViolation(f"{case.kind}: a forged callback got {status}")
            if after != before:
                raise PropertyViolation(f"{case.kind}: a forged callback changed the database")
            return answer_class(response)
        if status != 200 or response.get_data() != b"unknown order":
            raise PropertyViolation(f"{case.kind}: a signed callback for an unknown order got {status}")
        grew = {name: after[name] - before[name] for name in after if after[name] != before[name]}
        key = case.exception_key()
        opens = key is not None and key not in self.exceptions_opened
        if grew != ({"operator_exceptions": 1} if opens else {}):
            raise PropertyViolation(f"{case.kind}: a signed callback for an unknown order changed {grew or 'nothing'}")
        if key is not None:
            self.exceptions_opened.add(key)
        return None
