"""Customer-facing texts in the customer's language (hy, ru, en).

Decline reasons are chosen by RBS actionCode (protocols.md 2.6)."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "declined": "Your card was declined. Please try another card.",
        "insufficient_funds": "The payment was declined: insufficient funds. Please try another card.",
        "expired_card": "The payment was declined: the card has expired. Please try another card.",
        "wrong_card": "The payment was declined: the card number is not valid.",
        "three_ds_failed": "3-D Secure verification failed. Please try again or use another card.",
        "timeout": "The payment session timed out. Please try again.",
        "not_completed": "The payment was not completed. You can try again.",
        "bank_unavailable": "The bank is temporarily unavailable. Please try again in a few minutes.",
        "generic_error": "This payment request cannot be processed. Please return to the store and try again.",
        "unknown_payment": "We could not find this payment. Please return to the store.",
        "processing": "We are confirming your payment with the bank. This page refreshes by itself.",
        "payment_received": (
            "Your payment has been received. The store will confirm your order shortly: please do not pay again."
        ),
    },
    "hy": {
        "declined": "Ձեր քարտը մերժվել է։ Խնդրում ենք փորձել այլ քարտ։",
        "insufficient_funds": "Վճարումը մերժվել է՝ անբավարար միջոցներ։ Խնդրում ենք փորձել այլ քարտ։",
        "expired_card": "Վճարումը մերժվել է՝ քարտի ժամկետը լրացել է։ Խնդրում ենք փորձել այլ քարտ։",
        "wrong_card": "Վճարումը մերժվել է՝ քարտի համարը սխալ է։",
        "three_ds_failed": "3-D Secure ստուգումը ձախողվեց։ Փորձեք կրկին կամ օգտագործեք այլ քարտ։",
        "timeout": "Վճարման ժամանակը սպառվել է։ Խնդրում ենք փորձել կրկին։",
        "not_completed": "Վճարումը չի ավարտվել։ Կարող եք փորձել կրկին։",
        "bank_unavailable": "Բանկը ժամանակավորապես անհասանելի է։ Խնդրում ենք փորձել մի քանի րոպեից։",
        "generic_error": "Այս վճարման հարցումը հնարավոր չէ մշակել։ Վերադարձեք խանութ և փորձեք կրկին։",
        "unknown_payment": "Այս վճարումը չի գտնվել։ Խնդրում ենք վերադառնալ խանութ։",
        "processing": "Մենք ստուգում ենք Ձեր վճարումը բանկի հետ։ Էջը կթարմացվի ինքնաբերաբար։",
        "payment_received": "Ձեր վճարումը ստացված է։ Խանութը շուտով կհաստատի Ձեր պատվերը. խնդրում ենք կրկին չվճարել։",
    },
    "ru": {
        "declined": "Ваша карта отклонена. Попробуйте другую карту.",
        "insufficient_funds": "Платёж отклонён: недостаточно средств. Попробуйте другую карту.",
        "expired_card": "Платёж отклонён: истёк срок действия карты. Попробуйте другую карту.",
        "wrong_card": "Платёж отклонён: неверный номер карты.",
        "three_ds_failed": "Проверка 3-D Secure не пройдена. Попробуйте ещё раз или используйте другую карту.",
        "timeout": "Время на оплату истекло. Попробуйте ещё раз.",
        "not_completed": "Платёж не завершён. Вы можете попробовать ещё раз.",
        "bank_unavailable": "Банк временно недоступен. Попробуйте через несколько минут.",
        "generic_error": "Этот платёжный запрос не может быть обработан. Вернитесь в магазин и попробуйте снова.",
        "unknown_payment": "Платёж не найден. Вернитесь в магазин.",
        "processing": "Мы подтверждаем ваш платёж в банке. Страница обновится сама.",
        "payment_received": "Ваш платёж получен. Магазин скоро подтвердит заказ: пожалуйста, не оплачивайте повторно.",
    },
}

ACTION_CODE_MESSAGES = {
    "116": "insufficient_funds",
    "101": "expired_card",
    "111": "wrong_card",
    "-2006": "three_ds_failed",
    "-2005": "three_ds_failed",
    "999": "three_ds_failed",
    "-2007": "timeout",
    "1001": "timeout",
}


def language_of(lang: str | None) -> str:
    code = (lang or "en").lower()[:2]
    return {"am": "hy"}.get(code, code) if code in ("hy", "am", "ru") else "en"


def message(key: str, lang: str | None) -> str:
    return MESSAGES[language_of(lang)][key]


def decline_message(action_code: str | None, lang: str | None) -> str:
    return message(ACTION_CODE_MESSAGES.get(action_code or "", "declined"), lang)
