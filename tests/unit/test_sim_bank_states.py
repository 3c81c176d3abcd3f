"""The bank order's state machine: RBS orderStatus 0..8, one transition table, and one writer.

``BankOrderBook.transition`` is the only code that changes ``order_status`` (house rule 14 for the simulator): it
checks the current status against the table under the book's lock and appends the operation record. The AST scan
below fails when any other code in ``simulator/`` writes the status.
"""

from __future__ import annotations

import ast
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from simulator.vpos.orders import BankOrder, BankOrderBook, UnknownBankOrder
from simulator.vpos.states import FINAL, TRANSITIONS, OrderStatus, can_transition

SIMULATOR = Path(__file__).resolve().parents[2] / "simulator"
WRITER_FILE = SIMULATOR / "vpos" / "orders.py"
WRITER_FUNCTION = "transition"
NOW = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)


def order(md_order: str = "md-1", number: str = "N-1") -> BankOrder:
    return BankOrder(
        md_order=md_order,
        merchant="shop",
        order_number=number,
        amount=1500000,
        currency="051",
        return_url="http://gw.test/return",
        fail_url=None,
        language="en",
        page_view="DESKTOP",
        json_params={},
        description="",
        dynamic_callback_url=None,
        session_timeout_secs=1200,
        client_id=None,
        created_at=NOW,
    )


@pytest.fixture
def book() -> BankOrderBook:
    book = BankOrderBook()
    book.add(order())
    return book


# -- the enum and the table ---------------------------------------------------------------------------------


def test_order_status_values_are_the_rbs_codes_of_protocols_md() -> None:
    assert [(s.name, int(s)) for s in OrderStatus] == [
        ("REGISTERED", 0),
        ("APPROVED", 1),
        ("DEPOSITED", 2),
        ("REVERSED", 3),
        ("REFUNDED", 4),
        ("ACS_AUTH", 5),
        ("DECLINED", 6),
        ("PENDING", 7),
        ("PARTLY_DEPOSITED", 8),
    ]


def test_every_status_has_a_row_in_the_table() -> None:
    assert set(TRANSITIONS) == set(OrderStatus)


def test_3ds_and_pending_are_states_between_registered_and_the_outcome() -> None:
    assert can_transition(OrderStatus.REGISTERED, OrderStatus.ACS_AUTH)
    assert can_transition(OrderStatus.REGISTERED, OrderStatus.PENDING)
    assert can_transition(OrderStatus.ACS_AUTH, OrderStatus.PENDING)
    for waiting in (OrderStatus.ACS_AUTH, OrderStatus.PENDING):
        assert can_transition(waiting, OrderStatus.DEPOSITED)
        assert can_transition(waiting, OrderStatus.DECLINED)
        assert not can_transition(waiting, OrderStatus.REGISTERED)
    assert not can_transition(OrderStatus.PENDING, OrderStatus.ACS_AUTH)


def test_final_statuses_never_change_and_nothing_goes_back_to_registered() -> None:
    assert {OrderStatus.DECLINED, OrderStatus.REVERSED} == FINAL
    for status in FINAL:
        assert TRANSITIONS[status] == frozenset()
    assert all(OrderStatus.REGISTERED not in targets for targets in TRANSITIONS.values())


def test_paid_orders_move_only_by_deposit_reverse_or_refund() -> None:
    assert TRANSITIONS[OrderStatus.DEPOSITED] == {OrderStatus.REFUNDED, OrderStatus.REVERSED}
    assert TRANSITIONS[OrderStatus.APPROVED] == {
        OrderStatus.DEPOSITED,
        OrderStatus.PARTLY_DEPOSITED,
        OrderStatus.REVERSED,
    }


@pytest.mark.parametrize(
    ("status", "state"),
    [
        (0, "CREATED"),
        (1, "APPROVED"),
        (2, "DEPOSITED"),
        (3, "REVERSED"),
        (4, "REFUNDED"),
        (5, "CREATED"),
        (6, "DECLINED"),
        (7, "CREATED"),
        (8, "DEPOSITED"),
    ],
)
def test_payment_state_of_each_status(status: int, state: str) -> None:
    assert OrderStatus(status).payment_state == state


# -- the writer -------------------------------------------------------------------------------------------------


def test_transition_changes_status_and_action_code_and_records_the_operation(book: BankOrderBook) -> None:
    result = book.transition(
        "md-1", OrderStatus.DEPOSITED, operation="card", now=NOW + timedelta(seconds=5), action_code=0
    )
    assert result.changed and result.previous is OrderStatus.REGISTERED
    assert result.order.order_status is OrderStatus.DEPOSITED and result.order.action_code == 0
    assert result.order.operations == [
        {"operation": "card", "at": int(NOW.timestamp() * 1000) + 5000, "from": 0, "orderStatus": 2, "actionCode": 0}
    ]


def test_transition_keeps_the_action_code_when_none_is_given(book: BankOrderBook) -> None:
    result = book.transition("md-1", OrderStatus.ACS_AUTH, operation="3ds challenge", now=NOW)
    assert (result.order.order_status, result.order.action_code) == (5, -100)


def test_a_transition_the_table_forbids_changes_nothing(book: BankOrderBook) -> None:
    book.transition("md-1", OrderStatus.DECLINED, operation="card", now=NOW, action_code=116)
    refused = book.transition("md-1", OrderStatus.DEPOSITED, operation="card", now=NOW, action_code=0)
    assert not refused.changed and refused.previous is OrderStatus.DECLINED
    assert (refused.order.order_status, refused.order.action_code) == (6, 116)
    assert len(refused.order.operations) == 1


def test_sources_narrow_the_table(book: BankOrderBook) -> None:
    # REGISTERED -> DEPOSITED is in the table, but an ACS answer may only finish an order in 3-D Secure.
    result = book.transition(
        "md-1", OrderStatus.DEPOSITED, operation="3ds pass", now=NOW, sources={OrderStatus.ACS_AUTH}
    )
    assert not result.changed and result.order.order_status is OrderStatus.REGISTERED


def test_guard_and_facts_run_under_the_lock_only_for_an_allowed_transition(book: BankOrderBook) -> None:
    seen: list[str] = []
    refused = book.transition(
        "md-1", OrderStatus.DECLINED, operation="x", now=NOW, guard=lambda o: False, facts=lambda o: seen.append("x")
    )
    assert not refused.changed and seen == []
    done = book.transition(
        "md-1",
        OrderStatus.DECLINED,
        operation="y",
        now=NOW,
        action_code=-2007,
        guard=lambda o: True,
        facts=lambda o: seen.append(o.order_status.name),
    )
    assert done.changed and seen == ["REGISTERED"]  # facts see the order before its status changes


def test_unknown_order_raises(book: BankOrderBook) -> None:
    with pytest.raises(UnknownBankOrder):
        book.transition("nope", OrderStatus.DEPOSITED, operation="card", now=NOW)


def test_racing_transitions_decide_exactly_once(book: BankOrderBook) -> None:
    barrier = threading.Barrier(8)
    results: list[bool] = []

    def race(target: OrderStatus) -> None:
        barrier.wait()
        results.append(book.transition("md-1", target, operation="race", now=NOW).changed)

    threads = [
        threading.Thread(target=race, args=(OrderStatus.DEPOSITED if i % 2 else OrderStatus.DECLINED,))
        for i in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 1
    current = book.get("md-1")
    assert current is not None and len(current.operations) == 1


def test_listeners_hear_about_every_new_order() -> None:
    book = BankOrderBook()
    heard: list[str] = []
    book.listen(lambda added: heard.append(added.md_order))
    book.add(order("md-1", "N-1"))
    book.add(order("md-2", "N-2"))
    book.clear()  # clearing forgets orders, not listeners
    book.add(order("md-3", "N-3"))
    assert heard == ["md-1", "md-2", "md-3"]


# -- one writer (house rule 14) ----------------------------------------------------------------------------------


def _status_writes(tree: ast.AST, *, skip_function: str | None = None) -> list[int]:
    """Lines that write ``order_status``: ``x.order_status = ...`` (also ``+=``, annotated, tuple targets),
    ``x.__dict__["order_status"] = ...``, ``setattr(x, "order_status", ...)``, ``object.__setattr__(...)``,
    ``BankOrder(order_status=...)``, ``replace(x, order_status=...)``. A dataclass field declaration
    (``order_status: OrderStatus = ...`` in a class body) names no object and is not a write."""
    skipped: set[int] = set()
    if skip_function is not None:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name == skip_function:
                skipped |= {child.lineno for child in ast.walk(node) if hasattr(child, "lineno")}
    lines: list[int] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Attribute) and sub.attr == "order_status":
                        lines.append(node.lineno)
                    if isinstance(sub, ast.Subscript) and ast.unparse(sub.slice) == "'order_status'":
                        lines.append(node.lineno)
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in ("setattr", "__setattr__") and any(ast.unparse(a) == "'order_status'" for a in node.args):
                lines.append(node.lineno)
            if name in ("BankOrder", "replace") and any(k.arg == "order_status" for k in node.keywords):
                lines.append(node.lineno)
    return sorted(line for line in set(lines) if line not in skipped)


def test_only_the_order_books_transition_writes_a_bank_order_status() -> None:
    offenders = []
    for path in sorted(SIMULATOR.rglob("*.py")):
        skip = WRITER_FUNCTION if path == WRITER_FILE else None
        for line in _status_writes(ast.parse(path.read_text(encoding="utf-8")), skip_function=skip):
            offenders.append(f"{path.relative_to(SIMULATOR.parent)}:{line}")
    assert offenders == [], "order_status written outside BankOrderBook.transition: " + ", ".join(offenders)


def test_the_detector_finds_each_way_of_writing_a_status() -> None:
    samples = [
        "order.order_status = 2",
        "target.order_status, target.action_code = 6, 116",
        "order.order_status += 1",
        "order.order_status: int = 2",
        "order.__dict__['order_status'] = 2",
        "setattr(order, 'order_status', 2)",
        "object.__setattr__(order, 'order_status', 2)",
        "BankOrder(md_order='x', order_status=2)",
        "dataclasses.replace(order, order_status=2)",
    ]
    for sample in samples:
        assert _status_writes(ast.parse(sample)), sample
    assert _status_writes(ast.parse("class BankOrder:\n    order_status: OrderStatus = OrderStatus.REGISTERED")) == []
    assert _status_writes(ast.parse("status = order.order_status")) == []


def test_the_writer_itself_writes_the_status() -> None:
    tree = ast.parse(WRITER_FILE.read_text(encoding="utf-8"))
    assert _status_writes(tree)
    assert _status_writes(tree, skip_function=WRITER_FUNCTION) == []
