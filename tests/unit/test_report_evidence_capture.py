"""Evidence capture in the feature suite (``features/support/evidence.py``): per scenario example, every page the
customer saw in order, and a journal excerpt of the scenario's own orders only."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from features.support.evidence import (
    JOURNAL_LABEL,
    ScenarioEvidence,
    entry_ids,
    harvest_ids,
    own_entries,
    scenario_folder,
)
from reports.evidence import EvidenceKind, parse_evidence

OUTLINE_TEST = "test_a_declined_card_gets_a_clear_message_in_the_customers_language_and_another_card_succeeds"
ROW_1 = f"features/test_scenarios.py::{OUTLINE_TEST}[4000000000009995-en-insufficient funds]"
ROW_2 = f"features/test_scenarios.py::{OUTLINE_TEST}[4000000000009995-en-insufficient funds!]"


class FakePage:
    """What the recorder uses of a Playwright page: load events, title, url, screenshot, is_closed."""

    def __init__(self, title: str = "Checkout - Yerevan Pantry", url: str = "http://store/checkout") -> None:
        self.handlers: dict[str, list[Callable[..., None]]] = {}
        self.page_title = title
        self.url = url
        self.closed = False
        self.fail_with: Exception | None = None
        self.shots: list[str] = []

    def on(self, event: str, handler: Callable[..., None]) -> None:
        self.handlers.setdefault(event, []).append(handler)

    def load(self, title: str) -> None:
        self.page_title = title
        for handler in self.handlers.get("load", []):
            handler(self)

    def title(self) -> str:
        return self.page_title

    def is_closed(self) -> bool:
        return self.closed

    def screenshot(self, *, path: str, full_page: bool) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        Path(path).write_bytes(b"\x89PNG fake")
        self.shots.append(path)


def recorder(tmp_path: Path | None, node_id: str = ROW_1) -> ScenarioEvidence:
    own = ScenarioEvidence(tmp_path, node_id, node_id.split("::")[-1])
    own.begin("Card payment", "A declined card gets a clear message")
    return own


# ---------------------------------------------------------------- one folder per example


def test_two_rows_whose_names_share_a_long_prefix_get_different_folders() -> None:
    # The old file name was the test name cut at 120 characters: these two rows wrote the same file.
    name_1, name_2 = ROW_1.split("::")[1], ROW_2.split("::")[1]
    assert name_1[:120] == name_2[:120]

    assert scenario_folder(ROW_1, name_1) != scenario_folder(ROW_2, name_2)
    assert scenario_folder(ROW_1, name_1) == scenario_folder(ROW_1, name_1)


def test_two_rows_never_share_a_screenshot_file(tmp_path: Path) -> None:
    first, second = recorder(tmp_path, ROW_1), recorder(tmp_path, ROW_2)
    page_1, page_2 = FakePage(), FakePage()

    first.page(page_1, "checkout")
    second.page(page_2, "checkout")

    assert page_1.shots != page_2.shots
    assert len({*page_1.shots, *page_2.shots}) == 2


# ---------------------------------------------------------------- every page, in order


def test_every_page_loaded_by_a_step_gets_a_screenshot_in_order_with_a_label(tmp_path: Path) -> None:
    own = recorder(tmp_path)
    page = FakePage()
    own.watch(page)

    page.load("Products - Yerevan Pantry")
    own.after_step('Given a customer shopping in the store on a desktop browser in "en"')
    page.load("Card payment - Bank")
    own.after_step('When the customer orders 1 "Gata" and goes to pay')
    own.after_step('And pays on the bank page with card "4000000000009995"')  # nothing loaded yet: no shot
    page.load("Checkout - Yerevan Pantry")
    own.after_step('Then the customer is back at checkout with the message "insufficient funds"')

    shots = [r for r in own.records if r["kind"] == "screenshot"]
    assert [r["label"] for r in shots] == [
        'Products (after: Given a customer shopping in the store on a desktop browser in "en")',
        'Card payment (after: When the customer orders 1 "Gata" and goes to pay)',
        'Checkout (after: Then the customer is back at checkout with the message "insufficient funds")',
    ]
    assert [Path(r["path"]).name[:3] for r in shots] == ["01-", "02-", "03-"]
    assert all((tmp_path / r["path"]).is_file() for r in shots)


def test_a_page_named_inside_a_step_is_captured_and_not_again_after_the_step(tmp_path: Path) -> None:
    own = recorder(tmp_path)
    page = FakePage()
    own.watch(page)

    page.load("Checkout - Yerevan Pantry")
    own.page(page, "store: order 7E896X ready to pay")
    own.after_step("When the customer orders 1 Gata and goes to pay")

    assert [r["label"] for r in own.records] == ["store: order 7E896X ready to pay"]


def test_a_failed_step_captures_every_open_page(tmp_path: Path) -> None:
    own = recorder(tmp_path)
    open_page, closed_page = FakePage(), FakePage()
    own.watch(open_page)
    own.watch(closed_page)
    closed_page.closed = True

    own.step_failed("Then the customer sees the store's thank-you page")

    assert [r["label"] for r in own.records] == [
        "Checkout (when the step failed: Then the customer sees the store's thank-you page)"
    ]
    assert closed_page.shots == []


def test_a_screenshot_that_cannot_be_taken_becomes_a_note_not_an_error(tmp_path: Path) -> None:
    own = recorder(tmp_path)
    page = FakePage()
    page.fail_with = RuntimeError("Target page, context or browser has been closed")

    own.page(page, "thank-you page")

    assert own.records == [
        {
            "kind": "note",
            "label": "screenshot: thank-you page",
            "path": None,
            "text": "not taken: RuntimeError: Target page, context or browser has been closed",
        }
    ]


def test_a_page_without_a_title_is_labelled_by_its_path(tmp_path: Path) -> None:
    own = recorder(tmp_path)
    page = FakePage(title="", url="http://127.0.0.1:5000/vpos/return?orderId=x")
    own.watch(page)

    page.load("")
    own.after_step("When leaves the bank page without paying")

    assert own.records[0]["label"] == "/vpos/return (after: When leaves the bank page without paying)"


def test_nothing_is_recorded_without_a_report_directory() -> None:
    own = recorder(None)
    page = FakePage()
    own.watch(page)

    page.load("Checkout")
    own.page(page, "checkout")
    own.after_step("When x")
    own.step_failed("When x")
    own.journal([{"seq": 1, "params": {"mdOrder": "md-0001"}}], values={"md_order": "md-0001"})
    own.flush()

    assert page.shots == []
    assert own.records == []


# ---------------------------------------------------------------- the journal: this scenario's orders only

MINE_MD, MINE_NUMBER, MINE_ECWID, MINE_REF = "md-mine-0001", "VMINE0001", "7E896X", "transaction_65306446"
OTHER_MD, OTHER_NUMBER = "md-other-0002", "VOTHER0002"

JOURNAL: list[dict[str, Any]] = [
    {"seq": 10, "direction": "in", "service": "store", "method": "GET", "path": "/store/1003/",
     "operation": "storefront", "status": 200, "params": {}, "summary": "store=1003"},
    {"seq": 11, "direction": "in", "service": "store", "method": "POST", "path": "/store/1003/checkout",
     "operation": "checkout", "status": 200, "params": {},
     "summary": f"store=1003 -> order {MINE_ECWID} total=15000.0"},
    {"seq": 12, "direction": "in", "service": "vpos", "method": "POST", "path": "/payment/rest/register.do",
     "operation": "register.do", "status": 200,
     "params": {"orderNumber": MINE_NUMBER, "amount": "1500000", "description": f"Order {MINE_ECWID}"},
     "summary": f"orderNumber={MINE_NUMBER} amount=1500000 currency=051 -> errorCode 0 mdOrder={MINE_MD}"},
    {"seq": 13, "direction": "in", "service": "vpos", "method": "POST",
     "path": "/payment/rest/getOrderStatusExtended.do", "operation": "getOrderStatusExtended.do", "status": 200,
     "params": {"orderId": OTHER_MD}, "summary": f"mdOrder={OTHER_MD} -> orderStatus 0"},
    {"seq": 14, "direction": "out", "service": "vpos", "method": "GET", "path": "http://gw/vpos/callback",
     "operation": "callback", "status": 200, "params": {"mdOrder": OTHER_MD, "orderNumber": OTHER_NUMBER},
     "summary": f"declinedByTimeout status=0 mdOrder={OTHER_MD} attempt 2/4 -> 200"},
    {"seq": 15, "direction": "in", "service": "vpos", "method": "POST",
     "path": "/payment/rest/getOrderStatusExtended.do", "operation": "getOrderStatusExtended.do", "status": 200,
     "params": {"orderId": MINE_MD}, "summary": f"mdOrder={MINE_MD} -> orderStatus 6 actionCode 116"},
    {"seq": 16, "direction": "in", "service": "ecwid", "method": "PUT", "path": f"/api/v3/1003/orders/{MINE_REF}",
     "operation": "PUT order", "status": 200, "params": {"paymentStatus": "INCOMPLETE"},
     "summary": f"store=1003 order={MINE_ECWID} paymentStatus=INCOMPLETE -> updateCount 1"},
]  # fmt: skip


def test_entry_ids_reads_params_paths_and_summaries() -> None:
    assert entry_ids(JOURNAL[0]) == set()  # store=1003 is a store, not an order
    assert entry_ids(JOURNAL[1]) == {MINE_ECWID}
    assert entry_ids(JOURNAL[2]) == {MINE_NUMBER, MINE_MD}
    assert entry_ids(JOURNAL[6]) == {MINE_REF, MINE_ECWID}


def test_the_excerpt_follows_the_scenarios_orders_and_leaves_other_orders_out() -> None:
    own = own_entries(JOURNAL, {MINE_ECWID, MINE_MD})

    assert [entry["seq"] for entry in own] == [11, 12, 15, 16]


def test_the_excerpt_starting_from_the_bank_order_alone_still_finds_the_ecwid_order() -> None:
    # The PUT names the order by reference id and Ecwid id; the checkout entry by Ecwid id only.
    own = own_entries(JOURNAL, {MINE_MD})

    assert [entry["seq"] for entry in own] == [12, 15]


def test_no_known_id_means_an_empty_excerpt() -> None:
    assert own_entries(JOURNAL, set()) == []
    assert own_entries(JOURNAL, {"ab"}) == []  # too short to be an order id


def test_the_recorded_journal_names_only_the_scenarios_orders_and_counts_what_it_left_out(tmp_path: Path) -> None:
    own = recorder(tmp_path)
    own.track(MINE_ECWID)

    own.journal(JOURNAL, values={"form_url": f"http://sim/payment/merchants/sim/payment_en.html?mdOrder={MINE_MD}"})

    [record] = own.records
    assert record["label"] == JOURNAL_LABEL
    assert OTHER_MD not in record["text"]
    assert "store=1003 -> order 7E896X" in record["text"]
    assert record["text"].splitlines()[-1] == "(3 entries of other orders or of no order left out)"


def test_a_journal_without_the_scenarios_orders_says_so(tmp_path: Path) -> None:
    own = recorder(tmp_path)

    own.journal(JOURNAL[3:5], values={})

    assert own.records[0]["text"] == (
        "no journal entry names this scenario's orders (2 entries of other orders or of no order left out)"
    )


class FakeResponse:
    def __init__(self, location: str | None, url: str) -> None:
        self.headers = {"location": location} if location else {}
        self.request = type("Request", (), {"url": url})()


def test_harvest_ids_finds_the_scenarios_orders_in_its_state_but_not_earlier_bank_orders() -> None:
    state = {
        "mark": 41,
        "bank_before": {OTHER_MD},
        "order": {"id": MINE_ECWID, "referenceTransactionId": MINE_REF, "total": 15000.0},
        "form_url": f"http://sim/payment/merchants/sim/payment_en.html?mdOrder={MINE_MD}",
        "responses": [FakeResponse(f"http://sim/pay?mdOrder={MINE_MD}", "http://gw/ecwid/payment")],
        "response": FakeResponse(None, f"http://gw/vpos/callback?mdOrder=md-cb-0003&orderNumber={MINE_NUMBER}"),
        "order_id": "B21A3C",
        "page": object(),
    }

    assert harvest_ids(state) == {MINE_ECWID, MINE_REF, MINE_MD, "md-cb-0003", MINE_NUMBER, "B21A3C"}


# ---------------------------------------------------------------- the lines the report reads


def test_lines_carry_the_examples_node_id_and_parse_as_report_evidence(tmp_path: Path) -> None:
    own = recorder(tmp_path)
    own.page(FakePage(), "checkout")
    own.note("bank order", MINE_MD)

    records = parse_evidence(own.lines())

    assert [(r.scenario_id, r.kind) for r in records] == [(ROW_1, EvidenceKind.SCREENSHOT), (ROW_1, EvidenceKind.NOTE)]
    assert records[0].feature == "Card payment"
    assert records[0].path is not None
    assert records[0].path.startswith("evidence/")


def test_flush_appends_once_and_keeps_other_examples_lines(tmp_path: Path) -> None:
    first, second = recorder(tmp_path, ROW_1), recorder(tmp_path, ROW_2)
    first.note("n", "one")
    second.note("n", "two")

    first.flush()
    second.flush()
    first.flush()  # nothing left to write

    lines = (tmp_path / "evidence.jsonl").read_text(encoding="utf-8").splitlines()
    assert [(json.loads(line)["scenario_id"], json.loads(line)["text"]) for line in lines] == [
        (ROW_1, "one"),
        (ROW_2, "two"),
    ]


@pytest.mark.parametrize("value", ["", "abc"])
def test_track_ignores_values_too_short_to_be_order_ids(tmp_path: Path, value: str) -> None:
    own = recorder(tmp_path)
    own.track(value)

    own.journal([{"seq": 1, "params": {"orderId": "abc"}, "summary": ""}])

    assert own.records[0]["text"].startswith("no journal entry names this scenario's orders")
