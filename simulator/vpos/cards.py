"""The simulator's test card table: the ONE place that decides what a card number does.

Stripe-style magic numbers (protocols.md section 5: no public ArCa test cards exist) plus BPC's public sandbox
cards (protocols.md 2.9). ``TEST_CARDS`` is the single source: the README's table is generated from it
(``markdown_table``; a unit test keeps the two equal) and the control API serves it (``GET /_control/vpos/cards``)
for dashboards and card pages. Rules, in order:

1. a PAN that fails the Luhn check (or is not 12-19 digits) -> declined, actionCode 111 (wrong PAN);
2. an expiry month in the past (MM/YY, valid through the end of that month) -> declined, actionCode 101;
3. a PAN in ``TEST_CARDS`` -> that card's outcome, through its 3-D Secure ``Flow``;
4. any other Luhn-valid PAN -> declined, actionCode 100, so every test names its card explicitly.

A row's ``order_status``/``action_code`` is where the card ends: at once for most cards, after a passed challenge
for ``Flow.CHALLENGE`` (the order waits in orderStatus 5 at the ACS page meanwhile), and when the pending time is
over for ``Flow.PENDING`` (orderStatus 7 meanwhile). Pure: no state, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from simulator.vpos.states import OrderStatus

ORDER_REGISTERED = OrderStatus.REGISTERED
ORDER_DEPOSITED = OrderStatus.DEPOSITED
ORDER_DECLINED = OrderStatus.DECLINED

ACTION_APPROVED = 0
NO_PAYMENT_YET = -100
ACTION_GENERIC_DECLINE = 100
ACTION_EXPIRED_CARD = 101
ACTION_WRONG_PAN = 111
ACTION_INSUFFICIENT_FUNDS = 116
ACTION_NOT_ALLOWED = 120
ACTION_LIMIT_EXCEEDED = 121
ACTION_LOST_CARD = 208
ACTION_ISSUER_UNAVAILABLE = 907
ACTION_FRAUD_OR_3DS_ERROR = 999
ACTION_SESSION_EXPIRED = -2007
ACTION_3DS_DECLINED = -2006
ACTION_3DS_UNKNOWN = -2011
ACTION_TIMEOUT = -1
ACTION_PROCESSING_TIMEOUT = 151019

THREE_DS_PROTOCOL_VERSION = "2.2.0"


class Flow(StrEnum):
    """How a card goes through 3-D Secure."""

    NONE = "none"
    """No 3-D Secure: decided at once; eci 7 (Mastercard 0)."""
    FRICTIONLESS = "frictionless"
    """3-D Secure 2 without a challenge: decided at once; success eci 5 (Mastercard 2), failure -2006 without eci."""
    CHALLENGE = "challenge"
    """The ACS page: orderStatus 5 until the customer answers; a passed challenge gives the row's outcome."""
    ATTEMPTED = "attempted"
    """The issuer does not take part, the attempt counts: paid, eci 6 (Mastercard 1)."""
    NOT_ENROLLED = "not_enrolled"
    """The card is not enrolled in 3-D Secure: paid without it, eci 7 (Mastercard 0)."""
    UNAVAILABLE = "unavailable"
    """The directory server / ACS does not answer: declined -2011 (3DS status unknown), no eci."""
    PENDING = "pending"
    """The issuer answers later: orderStatus 7 for the bank's ``pendingSeconds``, then the row's outcome."""


EciLevel = Literal["authenticated", "attempted", "none"]
_ECI: dict[str, dict[EciLevel, int]] = {
    "MASTERCARD": {"authenticated": 2, "attempted": 1, "none": 0},
    "VISA": {"authenticated": 5, "attempted": 6, "none": 7},
}


def eci_for(scheme: str, level: EciLevel) -> int:
    """The ECI of a payment: Mastercard 02/01/00, every other scheme (Visa, ArCa, Mir) 05/06/07."""
    return _ECI.get(scheme, _ECI["VISA"])[level]


def payment_system(pan: str) -> str:
    """The card scheme as RBS names it in ``cardAuthInfo.paymentSystem``."""
    if pan.startswith("9051"):
        return "ARCA"
    if pan.startswith("4"):
        return "VISA"
    if pan[:2] in {"51", "52", "53", "54", "55"} or (len(pan) >= 4 and 2221 <= int(pan[:4]) <= 2720):
        return "MASTERCARD"
    if pan[:4] in {"2200", "2201", "2202", "2203", "2204"}:
        return "MIR"
    return "UNKNOWN"


@dataclass(frozen=True)
class SimCard:
    """One magic card number and what the bank does with it."""

    pan: str
    label: str
    order_status: OrderStatus
    """Where the card ends (after a passed challenge, or when the pending time is over)."""
    action_code: int
    flow: Flow = Flow.NONE
    source: str = "simulator"
    """``simulator`` or ``BPC sandbox`` (protocols.md 2.9)."""

    @property
    def scheme(self) -> str:
        return payment_system(self.pan)

    @property
    def three_ds(self) -> bool:
        """The card is authenticated with 3-D Secure 2 (frictionless, challenge or attempted)."""
        return self.flow in _THREE_DS_FLOWS

    @property
    def first_status(self) -> OrderStatus:
        """The orderStatus right after the card is submitted."""
        return _first_status(self.flow, self.order_status)

    @property
    def eci(self) -> int | None:
        """``secureAuthInfo.eci`` of the outcome; None when 3-D Secure failed or could not run."""
        return _outcome_eci(self.flow, self.scheme, self.order_status)

    def to_json(self) -> dict[str, Any]:
        return {
            "pan": self.pan,
            "scheme": self.scheme,
            "label": self.label,
            "flow": self.flow.value,
            "firstOrderStatus": int(self.first_status),
            "orderStatus": int(self.order_status),
            "actionCode": self.action_code,
            "eci": self.eci,
            "threeDS": self.three_ds,
            "source": self.source,
        }


_THREE_DS_FLOWS = frozenset({Flow.FRICTIONLESS, Flow.CHALLENGE, Flow.ATTEMPTED})


def _first_status(flow: Flow, outcome: OrderStatus) -> OrderStatus:
    if flow is Flow.CHALLENGE:
        return OrderStatus.ACS_AUTH
    if flow is Flow.PENDING:
        return OrderStatus.PENDING
    return outcome


def _outcome_eci(flow: Flow, scheme: str, status: OrderStatus) -> int | None:
    if flow in (Flow.FRICTIONLESS, Flow.CHALLENGE):
        return eci_for(scheme, "authenticated") if status.is_paid else None
    if flow is Flow.ATTEMPTED:
        return eci_for(scheme, "attempted")
    if flow is Flow.UNAVAILABLE:
        return None
    return eci_for(scheme, "none")


_PAID, _DECLINED = OrderStatus.DEPOSITED, OrderStatus.DECLINED
_BPC = "BPC sandbox"

TEST_CARDS: tuple[SimCard, ...] = (
    # success without 3-D Secure, one per scheme
    SimCard("4242424242424242", "Visa: success", _PAID, ACTION_APPROVED),
    SimCard("5555555555554444", "Mastercard: success", _PAID, ACTION_APPROVED),
    SimCard("9051000000000009", "ArCa: success", _PAID, ACTION_APPROVED),
    SimCard("2200000000000004", "Mir: success", _PAID, ACTION_APPROVED),
    SimCard("4000001111111118", "success without 3-D Secure", _PAID, ACTION_APPROVED, source=_BPC),
    # declines without 3-D Secure
    SimCard("4000000000000002", "generic decline", _DECLINED, ACTION_GENERIC_DECLINE),
    SimCard("4000000000000069", "expired card", _DECLINED, ACTION_EXPIRED_CARD),
    SimCard("4000000000001117", "wrong card number (issuer)", _DECLINED, ACTION_WRONG_PAN),
    SimCard("4000000000009995", "insufficient funds", _DECLINED, ACTION_INSUFFICIENT_FUNDS),
    SimCard("4000000000000036", "not allowed by issuer", _DECLINED, ACTION_NOT_ALLOWED),
    SimCard("4000000000001216", "limit exceeded", _DECLINED, ACTION_LIMIT_EXCEEDED),
    SimCard("4000000000002081", "lost card", _DECLINED, ACTION_LOST_CARD),
    SimCard("4000000000000119", "issuer unavailable", _DECLINED, ACTION_ISSUER_UNAVAILABLE),
    SimCard("4000000000099905", "suspected fraud", _DECLINED, ACTION_FRAUD_OR_3DS_ERROR),
    SimCard("4000000000151011", "issuer timeout (processing timeout)", _DECLINED, ACTION_PROCESSING_TIMEOUT),
    # 3-D Secure challenge at the ACS page
    SimCard("4000000000003220", "3DS challenge: success", _PAID, ACTION_APPROVED, Flow.CHALLENGE),
    SimCard("5555555555555599", "3DS challenge: success", _PAID, ACTION_APPROVED, Flow.CHALLENGE, _BPC),
    SimCard("9051000000000017", "3DS challenge: success", _PAID, ACTION_APPROVED, Flow.CHALLENGE),
    SimCard("4000000000003238", "3DS challenge: authentication fails", _DECLINED, ACTION_3DS_DECLINED, Flow.CHALLENGE),
    SimCard("4000000000003246", "3DS challenge: 3DS error", _DECLINED, ACTION_FRAUD_OR_3DS_ERROR, Flow.CHALLENGE),
    # 3-D Secure without a challenge
    SimCard("4000000000003253", "3DS frictionless: success", _PAID, ACTION_APPROVED, Flow.FRICTIONLESS),
    SimCard("4111111111111111", "3DS2 frictionless: success", _PAID, ACTION_APPROVED, Flow.FRICTIONLESS, _BPC),
    SimCard("5200000000003225", "3DS frictionless: success", _PAID, ACTION_APPROVED, Flow.FRICTIONLESS),
    SimCard("4000000000003261", "3DS frictionless: failure", _DECLINED, ACTION_3DS_DECLINED, Flow.FRICTIONLESS),
    SimCard("5168494895055780", "3DS frictionless: failure", _DECLINED, ACTION_3DS_DECLINED, Flow.FRICTIONLESS, _BPC),
    SimCard("4000000000003279", "3DS attempted: success", _PAID, ACTION_APPROVED, Flow.ATTEMPTED),
    SimCard("4000000000003287", "not enrolled in 3DS: success", _PAID, ACTION_APPROVED, Flow.NOT_ENROLLED),
    SimCard("4000000000003295", "3DS unavailable: declined", _DECLINED, ACTION_3DS_UNKNOWN, Flow.UNAVAILABLE),
    # pending at the issuer, then resolved by itself
    SimCard("4000000000007015", "pending, then paid", _PAID, ACTION_APPROVED, Flow.PENDING),
    SimCard("4000000000007023", "pending, then declined", _DECLINED, ACTION_GENERIC_DECLINE, Flow.PENDING),
)
_BY_PAN = {card.pan: card for card in TEST_CARDS}


def card_for(pan: str) -> SimCard | None:
    return _BY_PAN.get(pan)


@dataclass(frozen=True)
class CardDecision:
    """The bank's verdict for a card: ``order_status``/``action_code`` are where it ends (see the module doc)."""

    order_status: OrderStatus
    action_code: int
    card: SimCard | None
    flow: Flow = Flow.NONE
    eci: int | None = None

    @property
    def approved(self) -> bool:
        return self.order_status is OrderStatus.DEPOSITED

    @property
    def first_status(self) -> OrderStatus:
        """The orderStatus right after the submit: 5 for a challenge, 7 for pending, else the outcome."""
        return _first_status(self.flow, self.order_status)

    @property
    def three_ds_protocol_version(self) -> str | None:
        return THREE_DS_PROTOCOL_VERSION if self.flow in _THREE_DS_FLOWS else None


def luhn_valid(pan: str) -> bool:
    if not pan.isdigit() or not 12 <= len(pan) <= 19:
        return False
    total = 0
    for index, char in enumerate(reversed(pan)):
        digit = int(char)
        if index % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def expiry_in_past(month: int, year: int, now: datetime) -> bool:
    """A card is valid through the last day of its expiry month."""
    return (year, month) < (now.year, now.month)


def decide(pan: str, month: int, year: int, now: datetime) -> CardDecision:
    """The bank's verdict for a card; ``year`` is four digits. Pure: no state, no I/O."""
    no_3ds_eci = eci_for(payment_system(pan), "none")
    if not luhn_valid(pan):
        return CardDecision(_DECLINED, ACTION_WRONG_PAN, None, eci=no_3ds_eci)
    card = _BY_PAN.get(pan)
    if expiry_in_past(month, year, now):
        return CardDecision(_DECLINED, ACTION_EXPIRED_CARD, card, eci=no_3ds_eci)
    if card is None:
        return CardDecision(_DECLINED, ACTION_GENERIC_DECLINE, None, eci=no_3ds_eci)
    return CardDecision(card.order_status, card.action_code, card, card.flow, card.eci)


def _status_cell(card: SimCard) -> str:
    if card.first_status is card.order_status:
        return str(int(card.order_status))
    return f"{int(card.first_status)}, then {int(card.order_status)}"


def markdown_table() -> str:
    """The README's test card table, generated from ``TEST_CARDS`` (a unit test keeps the README equal to it)."""
    lines = [
        "| card number | scheme | outcome | 3-D Secure | orderStatus | actionCode | eci |",
        "|---|---|---|---|---|---|---|",
    ]
    for card in TEST_CARDS:
        label = card.label + (" (BPC sandbox)" if card.source == _BPC else "")
        eci = "-" if card.eci is None else f"{card.eci:02d}"
        lines.append(
            f"| `{card.pan}` | {card.scheme} | {label} | {card.flow.value} | {_status_cell(card)} | "
            f"{card.action_code} | {eci} |"
        )
    return "\n".join(lines)


ACTION_DESCRIPTIONS: dict[int, dict[str, str]] = {
    ACTION_APPROVED: {"en": "Approved", "ru": "Операция одобрена", "hy": "Գործարքը հաստատված է"},
    NO_PAYMENT_YET: {"en": "No payment attempts", "ru": "Не было попыток оплаты", "hy": "Վճարման փորձ չի եղել"},
    ACTION_GENERIC_DECLINE: {"en": "Card declined", "ru": "Карта отклонена", "hy": "Քարտը մերժված է"},
    ACTION_EXPIRED_CARD: {
        "en": "Expired card",
        "ru": "Истёк срок действия карты",
        "hy": "Քարտի գործողության ժամկետը լրացել է",
    },
    ACTION_WRONG_PAN: {"en": "Wrong card number", "ru": "Неверный номер карты", "hy": "Քարտի սխալ համար"},
    ACTION_INSUFFICIENT_FUNDS: {
        "en": "Insufficient funds",
        "ru": "Недостаточно средств",
        "hy": "Անբավարար միջոցներ",
    },
    ACTION_NOT_ALLOWED: {
        "en": "Transaction not allowed by issuer",
        "ru": "Операция запрещена эмитентом",
        "hy": "Գործարքը թույլատրված չէ թողարկողի կողմից",
    },
    ACTION_LIMIT_EXCEEDED: {
        "en": "Limit exceeded",
        "ru": "Превышен лимит",
        "hy": "Սահմանաչափը գերազանցված է",
    },
    ACTION_LOST_CARD: {
        "en": "Lost card",
        "ru": "Карта утеряна",
        "hy": "Քարտը կորած է",
    },
    ACTION_ISSUER_UNAVAILABLE: {
        "en": "Issuer unavailable",
        "ru": "Эмитент недоступен",
        "hy": "Թողարկողը հասանելի չէ",
    },
    ACTION_FRAUD_OR_3DS_ERROR: {
        "en": "Declined: suspected fraud or 3-D Secure error",
        "ru": "Отклонено: подозрение на мошенничество или ошибка 3-D Secure",
        "hy": "Մերժված է. խարդախության կասկած կամ 3-D Secure սխալ",
    },
    ACTION_SESSION_EXPIRED: {
        "en": "Payment time limit expired",
        "ru": "Истекло время оплаты",
        "hy": "Վճարման ժամկետը լրացել է",
    },
    ACTION_3DS_DECLINED: {
        "en": "3-D Secure authentication declined",
        "ru": "Отказ в аутентификации 3-D Secure",
        "hy": "3-D Secure նույնականացումը մերժված է",
    },
    ACTION_3DS_UNKNOWN: {
        "en": "3-D Secure status unknown",
        "ru": "Статус 3-D Secure неизвестен",
        "hy": "3-D Secure կարգավիճակն անհայտ է",
    },
    ACTION_TIMEOUT: {
        "en": "Processing timeout",
        "ru": "Превышено время обработки",
        "hy": "Մշակման ժամանակը սպառվել է",
    },
    ACTION_PROCESSING_TIMEOUT: {
        "en": "Processing timeout: the issuer did not answer",
        "ru": "Превышено время обработки: эмитент не ответил",
        "hy": "Մշակման ժամանակը սպառվել է. թողարկողը չի պատասխանել",
    },
    104: {"en": "Restricted card", "ru": "Карта с ограничениями", "hy": "Սահմանափակված քարտ"},
    123: {
        "en": "Number of transactions exceeded",
        "ru": "Превышено количество операций",
        "hy": "Գործարքների քանակը գերազանցված է",
    },
    209: {"en": "Card restricted", "ru": "Ограничения по карте", "hy": "Քարտի սահմանափակումներ"},
    910: {"en": "Issuer unavailable", "ru": "Эмитент недоступен", "hy": "Թողարկողը հասանելի չէ"},
    1001: {
        "en": "Card data input timeout",
        "ru": "Истекло время ввода данных карты",
        "hy": "Քարտի տվյալների մուտքագրման ժամանակը սպառվել է",
    },
    -2005: {
        "en": "3-D Secure signature error",
        "ru": "Ошибка подписи 3-D Secure",
        "hy": "3-D Secure ստորագրության սխալ",
    },
    -2016: {
        "en": "3-D Secure status unknown",
        "ru": "Статус 3-D Secure неизвестен",
        "hy": "3-D Secure կարգավիճակն անհայտ է",
    },
    151018: {
        "en": "Processing timeout",
        "ru": "Превышено время обработки",
        "hy": "Մշակման ժամանակը սպառվել է",
    },
}
"""Descriptions in the status call's ``language`` (protocols.md 2.6); an unknown code has none (empty)."""


def action_description(action_code: int, language: str) -> str:
    texts = ACTION_DESCRIPTIONS.get(action_code)
    if texts is None:
        return ""
    return texts.get(language, texts["en"])
