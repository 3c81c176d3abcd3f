"""Every text of the operator console, in Armenian, Russian and English: one catalogue, key -> {hy, ru, en}.

Templates and views take texts only from here (``text(key, lang, **values)``); a unit test checks that every key
has a non-empty text in every language and that the placeholders agree across languages.
"""

from __future__ import annotations

from string import Formatter

LANGUAGES = ("hy", "ru", "en")
DEFAULT_LANGUAGE = "en"
LANGUAGE_NAMES = {"hy": "Հայերեն", "ru": "Русский", "en": "English"}

TEXTS: dict[str, dict[str, str]] = {
    # frame
    "console_title": {"hy": "Օպերատորի վահանակ", "ru": "Консоль оператора", "en": "Operator console"},
    "nav_payments": {"hy": "Վճարումներ", "ru": "Платежи", "en": "Payments"},
    "nav_exceptions": {"hy": "Բացառություններ", "ru": "Исключения", "en": "Exceptions"},
    "nav_reconcile": {"hy": "Համադրում", "ru": "Сверка", "en": "Reconciliation"},
    "logout": {"hy": "Ելք", "ru": "Выйти", "en": "Log out"},
    "language": {"hy": "Լեզու", "ru": "Язык", "en": "Language"},
    "switch": {"hy": "Փոխել", "ru": "Сменить", "en": "Switch"},
    "signed_in_as": {
        "hy": "Մուտք եք գործել որպես {username}",
        "ru": "Вы вошли как {username}",
        "en": "Signed in as {username}",
    },
    "not_found": {"hy": "Չի գտնվել։", "ru": "Не найдено.", "en": "Not found."},
    # login
    "login_title": {"hy": "Մուտք", "ru": "Вход", "en": "Sign in"},
    "username": {"hy": "Օգտանուն", "ru": "Имя пользователя", "en": "Username"},
    "password": {"hy": "Գաղտնաբառ", "ru": "Пароль", "en": "Password"},
    "login_button": {"hy": "Մուտք գործել", "ru": "Войти", "en": "Sign in"},
    "totp_title": {"hy": "Հաստատման կոդ", "ru": "Код подтверждения", "en": "Verification code"},
    "totp_hint": {
        "hy": "Մուտքագրեք նույնականացման հավելվածի 6 նիշանոց կոդը։",
        "ru": "Введите 6-значный код из приложения-аутентификатора.",
        "en": "Enter the 6-digit code from your authenticator app.",
    },
    "totp_code": {"hy": "Կոդ", "ru": "Код", "en": "Code"},
    "totp_button": {"hy": "Հաստատել", "ru": "Подтвердить", "en": "Verify"},
    "login_bad_credentials": {
        "hy": "Սխալ օգտանուն կամ գաղտնաբառ։",
        "ru": "Неверное имя пользователя или пароль.",
        "en": "Wrong username or password.",
    },
    "login_locked": {
        "hy": "Չափազանց շատ անհաջող փորձեր։ Հաշիվը արգելափակված է մինչև {until} (UTC)։",
        "ru": "Слишком много неудачных попыток. Учётная запись заблокирована до {until} (UTC).",
        "en": "Too many failed attempts. The account is locked until {until} (UTC).",
    },
    "login_inactive": {
        "hy": "Այս հաշիվն անջատված է։ Դիմեք ադմինիստրատորին։",
        "ru": "Эта учётная запись отключена. Обратитесь к администратору.",
        "en": "This account is disabled. Ask an administrator.",
    },
    "login_totp_not_enrolled": {
        "hy": "Պահանջվում է երկրորդ գործոն (TOTP), բայց այն ձեր հաշվի համար միացված չէ։ Դիմեք ադմինիստրատորին։",
        "ru": (
            "Требуется второй фактор (TOTP), но он не настроен для вашей учётной записи. Обратитесь к администратору."
        ),
        "en": "A second factor (TOTP) is required but not set up for your account. Ask an administrator.",
    },
    "login_bad_totp": {
        "hy": "Կոդը սխալ է կամ արդեն օգտագործվել է։",
        "ru": "Код неверен или уже использован.",
        "en": "The code is wrong or was already used.",
    },
    "session_expired": {
        "hy": "Ձեր նստաշրջանն ավարտվել է։ Մուտք գործեք կրկին։",
        "ru": "Сеанс истёк. Войдите снова.",
        "en": "Your session has ended. Please sign in again.",
    },
    "csrf_refused": {
        "hy": "Ձևաթուղթը հնացել է կամ կեղծ է, ոչինչ չի փոխվել։ Բացեք էջը նորից և կրկնեք։",
        "ru": "Форма устарела или подделана, ничего не изменено. Откройте страницу заново и повторите.",
        "en": "The form has expired or is not ours; nothing was changed. Open the page again and retry.",
    },
    "logged_out": {"hy": "Դուք դուրս եկաք։", "ru": "Вы вышли из системы.", "en": "You have signed out."},
    # search
    "search_title": {"hy": "Վճարման որոնում", "ru": "Поиск платежа", "en": "Find a payment"},
    "search_hint": {
        "hy": "Ecwid պատվերի համար, referenceTransactionId, բանկի orderNumber կամ mdOrder",
        "ru": "Номер заказа Ecwid, referenceTransactionId, orderNumber банка или mdOrder",
        "en": "Ecwid order id, referenceTransactionId, bank orderNumber or mdOrder",
    },
    "search_button": {"hy": "Որոնել", "ru": "Найти", "en": "Search"},
    "search_no_results": {
        "hy": "Այդ նույնացուցիչով վճարում չի գտնվել։",
        "ru": "Платёж с таким идентификатором не найден.",
        "en": "No payment with that id.",
    },
    "col_order": {"hy": "Ecwid պատվեր", "ru": "Заказ Ecwid", "en": "Ecwid order"},
    "col_reference": {"hy": "Գործարքի հղում", "ru": "Ссылка на транзакцию", "en": "Transaction reference"},
    "col_store": {"hy": "Խանութ", "ru": "Магазин", "en": "Store"},
    "col_amount": {"hy": "Գումար", "ru": "Сумма", "en": "Amount"},
    "col_ecwid_status": {"hy": "Կարգավիճակը Ecwid-ում", "ru": "Статус в Ecwid", "en": "Status in Ecwid"},
    "col_created": {"hy": "Ստեղծված", "ru": "Создан", "en": "Created"},
    "open": {"hy": "Բացել", "ru": "Открыть", "en": "Open"},
    # payment page
    "payment_title": {"hy": "Վճարում {order}", "ru": "Платёж {order}", "en": "Payment {order}"},
    "attempts": {"hy": "Փորձեր", "ru": "Попытки", "en": "Attempts"},
    "col_attempt": {"hy": "Փորձ", "ru": "Попытка", "en": "Attempt"},
    "col_order_number": {"hy": "orderNumber (մեր)", "ru": "orderNumber (наш)", "en": "orderNumber (ours)"},
    "col_md_order": {"hy": "mdOrder (բանկի)", "ru": "mdOrder (банка)", "en": "mdOrder (bank's)"},
    "col_status": {"hy": "Վիճակ", "ru": "Состояние", "en": "State"},
    "col_refunded": {"hy": "Վերադարձված", "ru": "Возвращено", "en": "Refunded"},
    "col_deposited": {"hy": "Գանձված", "ru": "Списано", "en": "Deposited"},
    "col_pan": {"hy": "Քարտ", "ru": "Карта", "en": "Card"},
    "col_actions": {"hy": "Գործողություններ", "ru": "Действия", "en": "Actions"},
    "two_phase": {"hy": "երկփուլ", "ru": "двухстадийный", "en": "two-phase"},
    "timeline": {"hy": "Ժամանակագրություն", "ru": "Хронология", "en": "Timeline"},
    "col_time": {"hy": "Ժամանակ (UTC)", "ru": "Время (UTC)", "en": "Time (UTC)"},
    "col_source": {"hy": "Աղբյուր", "ru": "Источник", "en": "Source"},
    "col_what": {"hy": "Ինչ", "ru": "Что", "en": "What"},
    "col_detail": {"hy": "Մանրամասներ", "ru": "Подробности", "en": "Details"},
    "col_outcome": {"hy": "Արդյունք", "ru": "Результат", "en": "Outcome"},
    "src_event": {"hy": "իրադարձություն", "ru": "событие", "en": "event"},
    "src_refund": {"hy": "վերադարձ", "ru": "возврат", "en": "refund"},
    "src_outbox": {"hy": "Ecwid թարմացում", "ru": "обновление Ecwid", "en": "Ecwid update"},
    "src_exception": {"hy": "բացառություն", "ru": "исключение", "en": "exception"},
    "src_action": {"hy": "օպերատոր", "ru": "оператор", "en": "operator"},
    # money actions
    "refund": {"hy": "Վերադարձնել", "ru": "Вернуть", "en": "Refund"},
    "reverse": {"hy": "Չեղարկել", "ru": "Отменить", "en": "Reverse"},
    "capture": {"hy": "Գանձել", "ru": "Списать", "en": "Capture"},
    "refund_title": {"hy": "Գումարի վերադարձ", "ru": "Возврат средств", "en": "Refund"},
    "reverse_title": {
        "hy": "Վճարման չեղարկում (նույն օրը)",
        "ru": "Отмена платежа (в тот же день)",
        "en": "Reverse the payment (same day)",
    },
    "capture_title": {
        "hy": "Պահված գումարի գանձում",
        "ru": "Списание удержанной суммы",
        "en": "Capture a held payment",
    },
    "amount_major": {
        "hy": "Գումար ({currency}, օրինակ՝ 1500.00)",
        "ru": "Сумма ({currency}, например 1500.00)",
        "en": "Amount ({currency}, e.g. 1500.00)",
    },
    "amount_full_hint": {
        "hy": "Թողեք դատարկ՝ ամբողջ գումարի համար ({amount})։",
        "ru": "Оставьте пустым для полной суммы ({amount}).",
        "en": "Leave empty for the full amount ({amount}).",
    },
    "amount_invalid": {
        "hy": "Գումարը սխալ է. մուտքագրեք դրական թիվ՝ առավելագույնը երկու տասնորդական նիշով։",
        "ru": "Неверная сумма: введите положительное число не более чем с двумя знаками после запятой.",
        "en": "Invalid amount: enter a positive number with at most two decimals.",
    },
    "continue": {"hy": "Շարունակել", "ru": "Продолжить", "en": "Continue"},
    "confirm_title": {"hy": "Հաստատեք գործողությունը", "ru": "Подтвердите действие", "en": "Confirm the action"},
    "confirm_refund": {
        "hy": "Վերադարձնել {amount} գնորդին (պատվեր {order})։",
        "ru": "Вернуть покупателю {amount} (заказ {order}).",
        "en": "Refund {amount} to the customer (order {order}).",
    },
    "confirm_reverse": {
        "hy": "Չեղարկել {amount} վճարումը (պատվեր {order})։ Ամբողջ գումարը կազատվի։",
        "ru": "Отменить платёж на {amount} (заказ {order}). Вся сумма будет освобождена.",
        "en": "Reverse the payment of {amount} (order {order}). The whole amount is released.",
    },
    "confirm_capture": {
        "hy": "Գանձել {amount} (պատվեր {order})։",
        "ru": "Списать {amount} (заказ {order}).",
        "en": "Capture {amount} (order {order}).",
    },
    "confirm_irreversible": {
        "hy": "Այս գործողությունը հնարավոր չէ հետ շրջել։",
        "ru": "Это действие нельзя отменить.",
        "en": "This cannot be undone.",
    },
    "confirm_button": {"hy": "Այո, կատարել", "ru": "Да, выполнить", "en": "Yes, do it"},
    "cancel": {"hy": "Չեղարկել", "ru": "Отмена", "en": "Cancel"},
    "back": {"hy": "Վերադառնալ", "ru": "Назад", "en": "Back"},
    "refund_done": {
        "hy": "Վերադարձ՝ {status}։ Փորձ՝ {attempt_status}, Ecwid՝ {ecwid_status}։",
        "ru": "Возврат: {status}. Попытка: {attempt_status}, Ecwid: {ecwid_status}.",
        "en": "Refund: {status}. Attempt: {attempt_status}, Ecwid: {ecwid_status}.",
    },
    "money_done": {
        "hy": "Կատարված է։ Փորձ՝ {attempt_status}, Ecwid՝ {ecwid_status}։",
        "ru": "Выполнено. Попытка: {attempt_status}, Ecwid: {ecwid_status}.",
        "en": "Done. Attempt: {attempt_status}, Ecwid: {ecwid_status}.",
    },
    "refused_not_paid": {
        "hy": "Մերժված է. այս փորձը վճարված չէ։",
        "ru": "Отказано: эта попытка не оплачена.",
        "en": "Refused: this attempt is not paid.",
    },
    "refused_amount_not_positive": {
        "hy": "Մերժված է. գումարը պետք է զրոյից մեծ լինի։",
        "ru": "Отказано: сумма должна быть больше нуля.",
        "en": "Refused: the amount must be more than zero.",
    },
    "refused_over_refund": {
        "hy": "Մերժված է. գումարը գերազանցում է վերադարձի համար մնացածը։",
        "ru": "Отказано: сумма больше, чем осталось для возврата.",
        "en": "Refused: the amount is more than what is left to refund.",
    },
    "refused_already_reversed": {
        "hy": "Մերժված է. վճարումն արդեն չեղարկված է։",
        "ru": "Отказано: платёж уже отменён.",
        "en": "Refused: the payment is already reversed.",
    },
    "refused_not_reversible": {
        "hy": (
            "Մերժված է. այս վճարումն այլևս հնարավոր չէ չեղարկել "
            "(ժամկետն անցել է կամ արդեն վերադարձ է եղել)։ Օգտագործեք վերադարձը։"
        ),
        "ru": "Отказано: этот платёж уже нельзя отменить (срок прошёл или уже был возврат). Используйте возврат.",
        "en": "Refused: this payment can no longer be reversed (too late, or already refunded). Use a refund.",
    },
    "refused_not_held": {
        "hy": "Մերժված է. գումարը պահված չէ (վճարումը երկփուլ չէ կամ արդեն գանձված է)։",
        "ru": "Отказано: сумма не удержана (платёж не двухстадийный или уже списан).",
        "en": "Refused: nothing is held (not a two-phase payment, or already captured).",
    },
    "refused_over_capture": {
        "hy": "Մերժված է. չի կարելի գանձել պահվածից ավելին։",
        "ru": "Отказано: нельзя списать больше удержанной суммы.",
        "en": "Refused: you cannot capture more than is held.",
    },
    "refused_operation_in_progress": {
        "hy": "Մերժված է. այս վճարման մեկ այլ գործողություն դեռ ընթացքի մեջ է։ Փորձեք մի փոքր ուշ։",
        "ru": "Отказано: по этому платежу уже выполняется другая операция. Повторите чуть позже.",
        "en": "Refused: another operation on this payment is still in progress. Try again shortly.",
    },
    "refused_bank_refused": {
        "hy": "Բանկը մերժեց գործողությունը։",
        "ru": "Банк отклонил операцию.",
        "en": "The bank refused the operation.",
    },
    "refused_bank_unavailable": {
        "hy": "Բանկը չպատասխանեց։ Ոչինչ չի կրկնապատկվի. ստուգեք վճարման էջը և անհրաժեշտության դեպքում փորձեք կրկին։",
        "ru": (
            "Банк не ответил. Ничего не будет проведено дважды: "
            "проверьте страницу платежа и при необходимости повторите."
        ),
        "en": "The bank did not answer. Nothing will be done twice: check the payment page and try again if needed.",
    },
    "refused_other": {
        "hy": "Գործողությունը մերժվեց ({reason})։",
        "ru": "Операция отклонена ({reason}).",
        "en": "The operation was refused ({reason}).",
    },
    # exceptions
    "exceptions_title": {
        "hy": "Օպերատորի բացառություններ",
        "ru": "Исключения для оператора",
        "en": "Operator exceptions",
    },
    "filter_open": {"hy": "Բաց", "ru": "Открытые", "en": "Open"},
    "filter_resolved": {"hy": "Լուծված", "ru": "Решённые", "en": "Resolved"},
    "filter_all": {"hy": "Բոլորը", "ru": "Все", "en": "All"},
    "no_exceptions": {"hy": "Բացառություններ չկան։", "ru": "Исключений нет.", "en": "No exceptions."},
    "col_code": {"hy": "Կոդ", "ru": "Код", "en": "Code"},
    "col_payment": {"hy": "Վճարում", "ru": "Платёж", "en": "Payment"},
    "col_note": {"hy": "Նշում", "ru": "Заметка", "en": "Note"},
    "col_state": {"hy": "Վիճակ", "ru": "Состояние", "en": "State"},
    "state_open": {"hy": "բաց", "ru": "открыто", "en": "open"},
    "state_resolved": {
        "hy": "լուծված՝ {who}, {at}",
        "ru": "решено: {who}, {at}",
        "en": "resolved by {who} at {at}",
    },
    "resolve": {"hy": "Լուծված է", "ru": "Решено", "en": "Resolve"},
    "add_note": {"hy": "Ավելացնել նշում", "ru": "Добавить заметку", "en": "Add note"},
    "retry": {"hy": "Կրկին փորձել", "ru": "Повторить", "en": "Retry"},
    "note_placeholder": {"hy": "Ի՞նչ արվեց և ինչու", "ru": "Что сделано и почему", "en": "What was done and why"},
    "exc_resolved_ok": {
        "hy": "Բացառությունը լուծված է։",
        "ru": "Исключение закрыто.",
        "en": "The exception is resolved.",
    },
    "exc_note_ok": {"hy": "Նշումը պահպանված է։", "ru": "Заметка сохранена.", "en": "The note is saved."},
    "exc_note_required": {
        "hy": "Գրեք նշում (ինչ արվեց)։",
        "ru": "Напишите заметку (что сделано).",
        "en": "Write a note (what was done).",
    },
    "exc_already_resolved": {
        "hy": "Այս բացառությունն արդեն լուծված է։",
        "ru": "Это исключение уже закрыто.",
        "en": "This exception is already resolved.",
    },
    "exc_not_found": {"hy": "Բացառությունը չի գտնվել։", "ru": "Исключение не найдено.", "en": "Exception not found."},
    "retry_changed": {
        "hy": "Բանկին կրկին հարցրինք. {detail}",
        "ru": "Банк опрошен снова: {detail}",
        "en": "Asked the bank again: {detail}",
    },
    "retry_unchanged": {
        "hy": "Բանկին կրկին հարցրինք, ոչինչ չփոխվեց. {detail}",
        "ru": "Банк опрошен снова, ничего не изменилось: {detail}",
        "en": "Asked the bank again, nothing changed: {detail}",
    },
    "retry_ecwid_delivered": {
        "hy": "Կարգավիճակն ուղարկվեց Ecwid-ին ({detail})։",
        "ru": "Статус доставлен в Ecwid ({detail}).",
        "en": "The status was delivered to Ecwid ({detail}).",
    },
    "retry_ecwid_not_delivered": {
        "hy": "Ecwid-ը դեռ չի ստացել կարգավիճակը ({detail})։",
        "ru": "Ecwid пока не получил статус ({detail}).",
        "en": "Ecwid has not received the status yet ({detail}).",
    },
    "retry_bank_unavailable": {
        "hy": "Բանկը չպատասխանեց ({detail})։ Փորձեք ավելի ուշ։",
        "ru": "Банк не ответил ({detail}). Повторите позже.",
        "en": "The bank did not answer ({detail}). Try again later.",
    },
    "retry_not_retryable": {
        "hy": "Այս բացառության համար կրկնելու բան չկա. ուսումնասիրեք և լուծեք այն նշումով։",
        "ru": "Для этого исключения нечего повторять: разберитесь и закройте его с заметкой.",
        "en": "There is nothing to retry for this exception: look into it and resolve it with a note.",
    },
    "retry_no_bank_order": {
        "hy": "Բանկը այս փորձի համար պատվեր չունի։",
        "ru": "У банка нет заказа для этой попытки.",
        "en": "The bank has no order for this attempt.",
    },
    "retry_unavailable": {
        "hy": "Ecwid-ին կրկին ուղարկելը դեռ հասանելի չէ։",
        "ru": "Повторная отправка в Ecwid пока недоступна.",
        "en": "Sending to Ecwid again is not available yet.",
    },
    # reconciliation
    "reconcile_title": {"hy": "Օրվա համադրում", "ru": "Сверка за день", "en": "Reconciliation of a day"},
    "reconcile_day": {"hy": "Օր (UTC)", "ru": "День (UTC)", "en": "Day (UTC)"},
    "reconcile_run": {"hy": "Սկսել", "ru": "Запустить", "en": "Run"},
    "reconcile_csv": {"hy": "Ներբեռնել CSV", "ru": "Скачать CSV", "en": "Download CSV"},
    "reconcile_html": {"hy": "Բացել հաշվետվությունը", "ru": "Открыть отчёт", "en": "Open the report"},
    "reconcile_bad_day": {
        "hy": "Նշեք օրը ՏՏՏՏ-ԱԱ-ՕՕ ձևաչափով։",
        "ru": "Укажите день в формате ГГГГ-ММ-ДД.",
        "en": "Give the day as YYYY-MM-DD.",
    },
}


def text(key: str, lang: str, **values: object) -> str:
    """The text for ``key`` in ``lang`` (English for an unknown language), with ``{name}`` placeholders filled.

    A missing key is a programming error and raises ``KeyError`` (the unit test keeps the catalogue complete)."""
    entry = TEXTS[key]
    template = entry.get(lang) or entry[DEFAULT_LANGUAGE]
    return template.format_map(values) if values else template


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(template) if name}


def language_or_default(value: str | None) -> str:
    return value if value in LANGUAGES else DEFAULT_LANGUAGE
