"""Shared fakes for the gateway tests: an independent Ecwid-side encryptor (pycryptodome, not the gateway's
``cryptography`` code), an in-memory vPOS provider, a fake Ecwid REST API for ``httpx.MockTransport`` and a clock
that only moves when told. Fakes over mocks (architecture.md, house rule 7)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from Crypto.Cipher import AES
from Crypto.Random import get_random_bytes
from Crypto.Util.Padding import pad
from pydantic import SecretStr
from sqlalchemy import func, select

from gateway import build_context
from gateway.domain.confirmation import ProviderStatus
from gateway.domain.errors import ProviderError, ProviderUnavailable
from gateway.ecwid.payment_request import PaymentRequest, parse_payment_request
from gateway.provider.port import Registered, Registration
from gateway.services.context import GatewayContext
from gateway.services.start_payment import StartOutcome, start_payment
from gateway.settings import ProviderCredentials, ProviderMode, Settings
from gateway.store.database import Database
from gateway.store.models import Attempt, OperatorException, OutboxMessage, PaymentEvent, PaymentSession

STORE_ID = 1003
CLIENT_SECRET = "my-pay-app-client-secret-0123456789"  # the key is its first 16 characters
ECWID_TOKEN = "secret_abcdefghijklmnopqrstuv1234567890"
RETURN_URL = "https://mystore.example/checkout?clientId=my-pay-app&timestamp=1751294405226&key=abcdefgh"
REFERENCE = "transaction_65306446"
ECWID_ORDER_ID = "XJ12H"
MISSING = object()
"""Pass as a field value to ``ecwid_payload`` to leave that field out."""


# --- Ecwid's side of the payment request (protocols.md 1.1, 1.2) ----------------------------------------------


def ecwid_payload(
    *,
    store_id: Any = STORE_ID,
    return_url: Any = RETURN_URL,
    token: Any = ECWID_TOKEN,
    lang: Any = "en",
    currency: Any = "AMD",
    total: Any = 15000.0,
    reference: Any = REFERENCE,
    order_id: Any = ECWID_ORDER_ID,
) -> dict[str, Any]:
    """The protocols.md 1.2 example, with any field replaceable (or removable with ``MISSING``)."""
    order: dict[str, Any] = {
        "id": order_id,
        "internalId": 65306446,
        "referenceTransactionId": reference,
        "total": total,
        "email": "buyer@example.com",
        "paymentStatus": "INCOMPLETE",
        "fulfillmentStatus": "AWAITING_PROCESSING",
        "items": [{"name": "Apricot jam", "price": 7500, "quantity": 2}],
    }
    payload: dict[str, Any] = {
        "storeId": store_id,
        "lang": lang,
        "returnUrl": return_url,
        "merchantAppSettings": {"mode": "TEST"},
        "cart": {"currency": currency, "order": order},
        "token": token,
    }
    for mapping in (payload, order):
        for name in [k for k, v in mapping.items() if v is MISSING]:
            del mapping[name]
    return payload


def to_plaintext(payload: Mapping[str, Any] | bytes) -> bytes:
    return payload if isinstance(payload, bytes) else json.dumps(payload).encode("utf-8")


def ecwid_key(client_secret: str) -> bytes:
    return client_secret[:16].encode("utf-8")


def gcm_raw(plaintext: bytes, client_secret: str, iv: bytes | None = None) -> bytes:
    """``IV(16) || ciphertext || tag(16)``, AES-128-GCM with a 16-byte nonce and no AAD."""
    iv = iv or get_random_bytes(16)
    cipher = AES.new(ecwid_key(client_secret), AES.MODE_GCM, nonce=iv)
    ciphertext, tag = cipher.encrypt_and_digest(plaintext)
    return iv + ciphertext + tag


def cbc_raw(plaintext: bytes, client_secret: str, iv: bytes | None = None) -> bytes:
    """``IV(16) || ciphertext``, AES-128-CBC with PKCS#7."""
    iv = iv or get_random_bytes(16)
    cipher = AES.new(ecwid_key(client_secret), AES.MODE_CBC, iv=iv)
    return iv + cipher.encrypt(pad(plaintext, 16))


def b64url(raw: bytes, *, padded: bool = False) -> str:
    text = base64.urlsafe_b64encode(raw).decode("ascii")
    return text if padded else text.rstrip("=")


def encrypt_gcm(payload: Mapping[str, Any] | bytes, client_secret: str = CLIENT_SECRET, *, padded: bool = False) -> str:
    return b64url(gcm_raw(to_plaintext(payload), client_secret), padded=padded)


def encrypt_cbc(payload: Mapping[str, Any] | bytes, client_secret: str = CLIENT_SECRET, *, padded: bool = False) -> str:
    return b64url(cbc_raw(to_plaintext(payload), client_secret), padded=padded)


def ecwid_form(payload: Mapping[str, Any] | bytes | None = None, client_secret: str = CLIENT_SECRET) -> dict[str, str]:
    """What the customer's browser POSTs today: both fields, each encrypted its own way."""
    payload = ecwid_payload() if payload is None else payload
    return {"enc_data": encrypt_gcm(payload, client_secret), "data": encrypt_cbc(payload, client_secret)}


# --- the bank -----------------------------------------------------------------------------------------------------


@dataclass
class FakeProvider:
    """An in-memory ``VposProvider``: registers bank orders, answers the status the test set.

    Thread-safe (concurrency tests). ``register_delay_s`` keeps a registration "at the bank" for a while so
    concurrent duplicates really overlap.
    """

    form_url_base: str = "https://bank.example/payment/merchants/lab/payment_en.html"
    register_delay_s: float = 0.0
    registrations: list[Registration] = field(default_factory=list)
    status_calls: list[str] = field(default_factory=list)
    lookups_by_number: list[str] = field(default_factory=list)
    declines: list[str] = field(default_factory=list)
    fail_register_with: list[ProviderError] = field(default_factory=list)
    lose_answers: int = 0
    status_error: ProviderError | None = None
    _statuses: dict[str, ProviderStatus] = field(default_factory=dict)
    _by_number: dict[str, Registered] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def register_calls(self) -> int:
        return len(self.registrations)

    def fail_next_register(self, error: ProviderError) -> None:
        self.fail_register_with.append(error)

    def lose_next_answer(self) -> None:
        """The next register.do is carried out at the bank, but its answer never arrives (timeout)."""
        self.lose_answers += 1

    def register(self, registration: Registration) -> Registered:
        with self._lock:
            self.registrations.append(registration)
            failure = self.fail_register_with.pop(0) if self.fail_register_with else None
        if self.register_delay_s:
            time.sleep(self.register_delay_s)
        if failure is not None:
            raise failure
        md_order = str(uuid.uuid4())
        registered = Registered(provider_order_id=md_order, form_url=f"{self.form_url_base}?mdOrder={md_order}")
        with self._lock:
            self._by_number[registration.order_number] = registered
            lost = self.lose_answers > 0
            self.lose_answers -= lost
            self._statuses[md_order] = ProviderStatus(
                order_status=0,
                action_code="-100",
                amount_minor=registration.amount.minor,
                currency_numeric=registration.amount.numeric_currency,
                order_number=registration.order_number,
            )
        if lost:
            raise ProviderUnavailable("register.do timed out")
        return registered

    def md_order(self, order_number: str) -> str:
        return self._by_number[order_number].provider_order_id

    def registration(self, order_number: str) -> Registration:
        return next(r for r in self.registrations if r.order_number == order_number)

    def set_status(
        self,
        order_number: str,
        order_status: int,
        *,
        action_code: str = "0",
        amount_minor: int | None = None,
        currency_numeric: str | None = None,
        deposited_minor: int | None = None,
        refunded_minor: int | None = None,
    ) -> str:
        """Make the bank's status of record for this attempt say ``order_status``; returns the mdOrder.

        Amount and currency default to the registered ones; ``paymentAmountInfo`` amounts are None unless given.
        """
        registration = self.registration(order_number)
        md_order = self.md_order(order_number)
        with self._lock:
            self._statuses[md_order] = ProviderStatus(
                order_status=order_status,
                action_code=action_code,
                amount_minor=registration.amount.minor if amount_minor is None else amount_minor,
                currency_numeric=registration.amount.numeric_currency if currency_numeric is None else currency_numeric,
                order_number=order_number,
                masked_pan="408397**0003" if order_status in (1, 2) else None,
                deposited_minor=deposited_minor,
                refunded_minor=refunded_minor,
            )
        return md_order

    def status_of(self, md_order: str) -> ProviderStatus:
        return self._statuses[md_order]

    def find_by_order_number(self, order_number: str, currency: str, language: str = "en") -> ProviderStatus | None:
        """getOrderStatusExtended by orderNumber: the status with its mdOrder, or None for an order never registered."""
        with self._lock:
            self.lookups_by_number.append(order_number)
            if self.status_error is not None:
                raise self.status_error
            registered = self._by_number.get(order_number)
            status = self._statuses.get(registered.provider_order_id) if registered is not None else None
        if registered is None or status is None:
            return None
        return replace(status, provider_order_id=registered.provider_order_id)

    def decline(self, provider_order_id: str, order_number: str, currency: str) -> None:
        """decline.do: only an order that is not completed (registered, or at 3-D Secure) becomes declined."""
        with self._lock:
            self.declines.append(order_number)
            status = self._statuses.get(provider_order_id)
            if status is None:
                raise ProviderError("decline.do errorCode 6: unknown order", error_code="6")
            if status.order_status not in (0, 5):
                raise ProviderError("decline.do errorCode 7: order already completed", error_code="7")
            self._statuses[provider_order_id] = replace(status, order_status=6, action_code="-2013")

    # Money after the payment is tested against the simulator's bank (tests/integration/test_gw_money_*.py): this
    # fake does not pretend to keep a ledger.
    def deposit(self, provider_order_id: str, amount_minor: int, currency: str) -> None:
        raise ProviderError("deposit.do is not supported by FakeProvider", error_code="5")

    def reverse(self, provider_order_id: str, currency: str) -> None:
        raise ProviderError("reverse.do is not supported by FakeProvider", error_code="5")

    def refund(
        self,
        provider_order_id: str,
        amount_minor: int,
        currency: str,
        *,
        external_refund_id: str,
        expected_deposited_minor: int | None,
    ) -> None:
        raise ProviderError("refund.do is not supported by FakeProvider", error_code="5")

    def get_status(self, provider_order_id: str, currency: str, language: str = "en") -> ProviderStatus:
        with self._lock:
            self.status_calls.append(provider_order_id)
            if self.status_error is not None:
                raise self.status_error
            status = self._statuses.get(provider_order_id)
        if status is None:
            raise ProviderError("getOrderStatusExtended.do errorCode 6: unknown order", error_code="6")
        return status


def paid(order_number: str, provider: FakeProvider) -> ProviderStatus:
    """The status of record for a one-phase payment of exactly the registered amount."""
    return provider.status_of(provider.set_status(order_number, 2))


def unavailable() -> ProviderUnavailable:
    return ProviderUnavailable("getOrderStatusExtended.do timed out")


# --- Ecwid's REST API ---------------------------------------------------------------------------------------------


@dataclass
class EcwidCall:
    method: str
    url: str
    headers: httpx.Headers
    body: dict[str, Any]


@dataclass
class FakeEcwid:
    """Ecwid's orders API for ``httpx.MockTransport``: records every request, answers ``{"updateCount": 1}`` unless
    told to fail the next calls."""

    calls: list[EcwidCall] = field(default_factory=list)
    delay_s: float = 0.0  # a slow Ecwid: every answer takes this long (real time, outside the lock)
    _failures: list[httpx.Response] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, status: int, times: int = 1, *, headers: Mapping[str, str] | None = None) -> None:
        for _ in range(times):
            self._failures.append(
                httpx.Response(
                    status,
                    json={"errorMessage": "fake failure", "errorCode": "FAKE_" + str(status)},
                    headers=dict(headers or {}),
                )
            )

    def handler(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else {}
        if self.delay_s:
            time.sleep(self.delay_s)
        with self._lock:
            self.calls.append(EcwidCall(request.method, str(request.url), request.headers, body))
            if self._failures:
                return self._failures.pop(0)
        return httpx.Response(200, json={"updateCount": 1})

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)

    @property
    def puts(self) -> list[EcwidCall]:
        return [c for c in self.calls if c.method == "PUT"]

    def statuses(self) -> list[str]:
        return [c.body.get("paymentStatus", "") for c in self.puts]


# --- time ---------------------------------------------------------------------------------------------------------


class FakeClock:
    """A clock that only moves when the test says so (UTC, timezone-aware)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2025, 6, 30, 12, 0, 0, tzinfo=UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            self._now += timedelta(seconds=seconds)
            return self._now


# --- a wired gateway over a real database ---------------------------------------------------------------------------

CALLBACK_KEY = "lab-callback-key-0123456789"
TOKEN_KEY = "Nn3G3m0x0o1h4kqLq6yXv3o0gq2mZr8bXk3y0l2b7ZQ="  # a fixed Fernet key: tests only
PUBLIC_URL = "http://gateway.test"


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "public_url": PUBLIC_URL,
        "ecwid_client_secrets": {STORE_ID: SecretStr(CLIENT_SECRET)},
        "ecwid_api_url": "https://ecwid.test/api/v3",
        "provider_mode": ProviderMode.TEST,
        "provider_base_url": "https://bank.test/payment/rest/",
        "provider_credentials": {
            "AMD": ProviderCredentials(user_name="lab_amd_api", password=SecretStr("bank-password-amd")),
            "USD": ProviderCredentials(user_name="lab_usd_api", password=SecretStr("bank-password-usd")),
        },
        "callback_key": SecretStr(CALLBACK_KEY),
        "token_key": SecretStr(TOKEN_KEY),
        "database_url": database_url,
        "session_timeout_s": 1200,
    }
    values.update(overrides)
    return Settings(**values)


def migrate_database(database_url: str) -> None:
    """What an operator runs once before starting the gateway: ``vposlab-gateway migrate``."""
    db = Database(database_url)
    try:
        db.migrate()
    finally:
        db.dispose()


@dataclass
class Gateway:
    """A gateway context over a real database with the fakes plugged in."""

    ctx: GatewayContext
    provider: FakeProvider
    ecwid: FakeEcwid
    clock: FakeClock
    http: httpx.Client

    @classmethod
    def build(cls, settings: Settings) -> Gateway:
        ecwid, clock, provider = FakeEcwid(), FakeClock(), FakeProvider()
        http = httpx.Client(transport=ecwid.transport())
        migrate_database(settings.database_url)
        ctx = build_context(settings, clock=clock, http=http)
        ctx.provider = provider
        return cls(ctx, provider, ecwid, clock, http)

    def close(self) -> None:
        self.http.close()
        self.ctx.db.dispose()

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    def request(self, payload: Mapping[str, Any] | None = None, **overrides: Any) -> PaymentRequest:
        """Parse what Ecwid would POST, through the gateway's own decryption."""
        body = ecwid_form(dict(payload) if payload is not None else ecwid_payload(**overrides))
        supported = frozenset(self.settings.provider_credentials)
        return parse_payment_request(body, self.settings.ecwid_client_secrets, supported)

    def start(self, page_view: str = "DESKTOP", **overrides: Any) -> StartOutcome:
        return start_payment(self.ctx, self.request(**overrides), page_view=page_view)

    def attempts(self) -> list[Attempt]:
        with self.ctx.db.session() as session:
            return list(session.scalars(select(Attempt).order_by(Attempt.id)))

    def attempt(self, order_number: str) -> Attempt:
        with self.ctx.db.session() as session:
            return session.scalars(select(Attempt).where(Attempt.order_number == order_number)).one()

    def payment_session(self) -> PaymentSession:
        with self.ctx.db.session() as session:
            return session.scalars(select(PaymentSession)).one()

    def outbox(self) -> list[OutboxMessage]:
        with self.ctx.db.session() as session:
            return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))

    def exceptions(self) -> list[OperatorException]:
        with self.ctx.db.session() as session:
            return list(session.scalars(select(OperatorException).order_by(OperatorException.id)))

    def events(self) -> list[str]:
        with self.ctx.db.session() as session:
            return list(session.scalars(select(PaymentEvent.kind).order_by(PaymentEvent.id)))

    def row_counts(self) -> dict[str, int]:
        with self.ctx.db.session() as session:
            return {
                model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
                for model in (PaymentSession, Attempt, OutboxMessage, OperatorException, PaymentEvent)
            }

    def signed_callback(self, order_number: str, operation: str = "deposited", status: str = "1") -> dict[str, str]:
        """What the bank sends (protocols.md 2.8), signed independently of the gateway's checksum code."""
        params = {
            "mdOrder": self.provider.md_order(order_number),
            "orderNumber": order_number,
            "operation": operation,
            "status": status,
        }
        return sign_callback(params)


def sign_callback(params: Mapping[str, str], key: str = CALLBACK_KEY) -> dict[str, str]:
    """The bank's checksum (protocols.md 2.8), written from the protocol text rather than the gateway's code."""
    message = "".join(f"{name};{params[name]};" for name in sorted(params) if name not in ("checksum", "sign_alias"))
    checksum = hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest().upper()
    return {**params, "checksum": checksum}


# --- several stores and tokens, store-aimed Ecwid faults (outbox pacing and fairness) -------------------------------


@dataclass
class StoreFaultsEcwid(FakeEcwid):
    """``FakeEcwid`` whose faults can be aimed at one store: ``store_status[store_id] = 503`` answers every call for
    that store with that status, ``store_hang_s[store_id] = s`` makes every call for it wait ``s`` seconds (real
    time) and then time out, as the client sees an Ecwid that does not answer. Other stores are served normally."""

    store_status: dict[int, int] = field(default_factory=dict)
    store_hang_s: dict[int, float] = field(default_factory=dict)

    def handler(self, request: httpx.Request) -> httpx.Response:
        store_id = int(request.url.path.split("/")[-3])  # .../api/v3/{storeId}/orders/{ref}
        status, hang_s = self.store_status.get(store_id), self.store_hang_s.get(store_id)
        if status is None and hang_s is None:
            return super().handler(request)
        body = json.loads(request.content) if request.content else {}
        with self._lock:
            self.calls.append(EcwidCall(request.method, str(request.url), request.headers, body))
        if hang_s is not None:
            time.sleep(hang_s)
            raise httpx.ReadTimeout("Ecwid did not answer", request=request)
        return httpx.Response(status or 500, json={"errorMessage": "store fault", "errorCode": f"FAKE_{status}"})


def puts_for_store(ecwid: FakeEcwid, store_id: int) -> list[EcwidCall]:
    return [c for c in ecwid.puts if f"/{store_id}/orders/" in c.url]


def puts_with_token(ecwid: FakeEcwid, token: str) -> list[EcwidCall]:
    return [c for c in ecwid.puts if c.headers.get("Authorization") == f"Bearer {token}"]


def gateway_with_ecwid(settings: Settings, ecwid: FakeEcwid) -> Gateway:
    """``Gateway.build`` with a given fake Ecwid (for instance ``StoreFaultsEcwid``)."""
    clock, provider = FakeClock(), FakeProvider()
    http = httpx.Client(transport=ecwid.transport())
    migrate_database(settings.database_url)
    ctx = build_context(settings, clock=clock, http=http)
    ctx.provider = provider
    return Gateway(ctx, provider, ecwid, clock, http)


def queue_ecwid_updates(
    gw: Gateway, store_id: int, count: int, *, token: str = ECWID_TOKEN, status: str = "PAID"
) -> list[int]:
    """A backlog without going through the bank: ``count`` payment sessions of ``store_id`` (using ``token``), each
    with one Ecwid update due now, written straight into the database. Returns the session ids, oldest first."""
    now = gw.clock.now()
    sealed = gw.ctx.tokens.seal(token)
    with gw.ctx.db.session() as session, session.begin():
        start = session.scalar(select(func.count()).select_from(PaymentSession)) or 0
        owners = [
            PaymentSession(
                store_id=store_id,
                reference_transaction_id=f"transaction_{store_id}_{start + i}",
                ecwid_order_id=f"B{store_id}X{start + i}",
                amount_minor=15000,
                currency="AMD",
                return_url=RETURN_URL,
                lang="en",
                token_encrypted=sealed,
                ecwid_status=status,
                created_at=now,
                updated_at=now,
            )
            for i in range(count)
        ]
        session.add_all(owners)
        session.flush()
        ids = [owner.id for owner in owners]
        session.add_all(
            OutboxMessage(
                session_id=owner_id,
                payload={"paymentStatus": status},
                state="pending",
                tries=0,
                local_errors=0,
                next_try_at=now,
                created_at=now,
            )
            for owner_id in ids
        )
    return ids
