"""The simulator's test card table: the ONE place that decides what a card number does.

Stripe-style magic numbers (protocols.md section 5: no public ArCa test cards exist). The same table is
documented in ``simulator/README.md``; keep the two in step. Rules, in order:

1. a PAN that fails the Luhn check (or is not 12-19 digits) -> declined, actionCode 111 (wrong PAN);
2. an expiry month in the past (MM/YY, valid through the end of that month) -> declined, actionCode 101;
3. a PAN in ``TEST_CARDS`` -> that card's outcome;
4. any other Luhn-valid PAN -> declined, actionCode 100, so every test names its card explicitly.

``three_ds`` marks cards that will go through the 3-D Secure ACS page once it exists (orderStatus 5 meanwhile).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

ORDER_DEPOSITED = 2
ORDER_DECLINED = 6

ACTION_APPROVED = 0
ACTION_GENERIC_DECLINE = 100
ACTION_EXPIRED_CARD = 101
ACTION_WRONG_PAN = 111
ACTION_INSUFFICIENT_FUNDS = 116
ACTION_NOT_ALLOWED = 120
ACTION_ISSUER_UNAVAILABLE = 907
ACTION_SESSION_EXPIRED = -2007


@dataclass(frozen=True)
class SimCard:
    """One magic card number and what the bank does with it."""

    pan: str
    label: str
    order_status: int
    action_code: int
    three_ds: bool = False


TEST_CARDS: tuple[SimCard, ...] = (
    SimCard("4242424242424242", "Visa: success", ORDER_DEPOSITED, ACTION_APPROVED),
    SimCard("5555555555554444", "Mastercard: success", ORDER_DEPOSITED, ACTION_APPROVED),
    SimCard("9051000000000009", "ArCa: success", ORDER_DEPOSITED, ACTION_APPROVED),
    SimCard("4000000000009995", "insufficient funds", ORDER_DECLINED, ACTION_INSUFFICIENT_FUNDS),
    SimCard("4000000000000069", "expired card", ORDER_DECLINED, ACTION_EXPIRED_CARD),
    SimCard("4000000000000002", "generic decline", ORDER_DECLINED, ACTION_GENERIC_DECLINE),
    SimCard("4000000000000036", "not allowed by issuer", ORDER_DECLINED, ACTION_NOT_ALLOWED),
    SimCard("4000000000000119", "issuer unavailable", ORDER_DECLINED, ACTION_ISSUER_UNAVAILABLE),
)
_BY_PAN = {card.pan: card for card in TEST_CARDS}


@dataclass(frozen=True)
class CardDecision:
    order_status: int
    action_code: int
    card: SimCard | None

    @property
    def approved(self) -> bool:
        return self.order_status == ORDER_DEPOSITED


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
    if not luhn_valid(pan):
        return CardDecision(ORDER_DECLINED, ACTION_WRONG_PAN, None)
    card = _BY_PAN.get(pan)
    if expiry_in_past(month, year, now):
        return CardDecision(ORDER_DECLINED, ACTION_EXPIRED_CARD, card)
    if card is None:
        return CardDecision(ORDER_DECLINED, ACTION_GENERIC_DECLINE, None)
    return CardDecision(card.order_status, card.action_code, card)


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


ACTION_DESCRIPTIONS: dict[int, dict[str, str]] = {
    ACTION_APPROVED: {"en": "Approved", "ru": "Операция одобрена", "hy": "Գործարքը հաստատված է"},
    -100: {"en": "No payment attempts", "ru": "Не было попыток оплаты", "hy": "Վճարման փորձ չի եղել"},
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
    ACTION_ISSUER_UNAVAILABLE: {
        "en": "Issuer unavailable",
        "ru": "Эмитент недоступен",
        "hy": "Թողարկողը հասանելի չէ",
    },
    ACTION_SESSION_EXPIRED: {
        "en": "Payment time limit expired",
        "ru": "Истекло время оплаты",
        "hy": "Վճարման ժամկետը լրացել է",
    },
}


def action_description(action_code: int, language: str) -> str:
    texts = ACTION_DESCRIPTIONS.get(action_code)
    if texts is None:
        return ""
    return texts.get(language, texts["en"])
