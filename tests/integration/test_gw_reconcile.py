"""Daily reconciliation against a real database (SQLite and PostgreSQL) with fakes for the bank and Ecwid: each
kind of disagreement is listed with its action, a run changes nothing, the files are safe to open, and the command
says by its exit code whether everything agrees."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from gateway.cli import main
from gateway.domain.reconciliation import Reconciliation
from gateway.ecwid.orders_client import EcwidOrdersClient
from gateway.services.confirm import confirm_attempt
from gateway.services.outbox import relay
from gateway.services.reconcile import day_bounds, reconcile_day
from gateway.services.reconcile_report import CSV_COLUMNS, render_csv, render_html, safe_cell, write_reports
from gateway.store.models import Base
from tests.gateway_fakes import (
    CLIENT_SECRET,
    ECWID_TOKEN,
    REFERENCE,
    STORE_ID,
    TOKEN_KEY,
    Gateway,
    migrate_database,
    unavailable,
)

DAY = date(2025, 6, 30)  # the FakeClock's day


@dataclass
class EcwidOrders:
    """Ecwid's orders API with state: GET answers the stored order, PUT updates it; ``fail_next`` refuses calls."""

    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    failures: list[httpx.Response] = field(default_factory=list)

    def add(self, reference: str = REFERENCE, *, total: float = 15000.0, status: str = "INCOMPLETE") -> None:
        self.orders[reference] = {"id": "XJ12H", "total": total, "paymentStatus": status}

    def fail_next(self, status: int, error_code: str) -> None:
        self.failures.append(httpx.Response(status, json={"errorMessage": "refused", "errorCode": error_code}))

    def handler(self, request: httpx.Request) -> httpx.Response:
        reference = unquote(urlsplit(str(request.url)).path.rsplit("/", 1)[-1])
        self.calls.append((request.method, reference))
        if self.failures:
            return self.failures.pop(0)
        order = self.orders.get(reference)
        if order is None:
            return httpx.Response(404, json={"errorMessage": "no order", "errorCode": "ORDER_NOT_FOUND"})
        if request.method == "PUT":
            order.update(json.loads(request.content))
            return httpx.Response(200, json={"updateCount": 1})
        return httpx.Response(200, json=order)


@pytest.fixture
def ecwid(gw: Gateway) -> Iterator[EcwidOrders]:
    orders = EcwidOrders()
    orders.add()
    http = httpx.Client(transport=httpx.MockTransport(orders.handler))
    gw.ctx.ecwid = EcwidOrdersClient(http, gw.settings.ecwid_api_url)
    try:
        yield orders
    finally:
        http.close()


def start(gw: Gateway, **overrides: Any) -> str:
    number = gw.start(**overrides).attempt_order_number
    assert number is not None
    return number


def bank_says(gw: Gateway, number: str, order_status: int, **kwargs: Any) -> None:
    md_order = gw.provider.set_status(number, order_status, **kwargs)
    confirm_attempt(gw.ctx, gw.attempt(number).id, gw.provider.status_of(md_order), source="test")


def paid_and_delivered(gw: Gateway) -> str:
    number = start(gw)
    bank_says(gw, number, 2)
    relay(gw.ctx)
    return number


def findings(result: Reconciliation) -> list[list[str]]:
    return [[f.code.value for f in row.findings] for row in result.rows]


def test_paid_order_everywhere_agrees(gw: Gateway, ecwid: EcwidOrders) -> None:
    number = paid_and_delivered(gw)
    assert ecwid.orders[REFERENCE]["paymentStatus"] == "PAID"

    result = reconcile_day(gw.ctx, DAY)

    assert result.ok and findings(result) == [[]]
    [row] = result.rows
    assert (row.store_id, row.ecwid_order_id, row.order_number) == (STORE_ID, "XJ12H", number)
    assert (row.provider_order_id, row.amount) == (gw.provider.md_order(number), "15000.00 AMD")
    assert (row.gateway_state, row.bank_state, row.ecwid_payment_status) == ("paid", "2", "PAID")
    assert ecwid.calls[-1] == ("GET", REFERENCE)


def test_only_the_day_asked_for(gw: Gateway, ecwid: EcwidOrders) -> None:
    paid_and_delivered(gw)
    assert reconcile_day(gw.ctx, date(2025, 7, 1)).rows == ()
    assert reconcile_day(gw.ctx, date(2025, 6, 29)).rows == ()
    # 12:00 UTC on 30 June is 30 June in Yerevan too; the day's bounds move with the zone.
    assert len(reconcile_day(gw.ctx, DAY, tz=ZoneInfo("Asia/Yerevan")).rows) == 1
    assert day_bounds(DAY, ZoneInfo("Asia/Yerevan"))[0] == datetime(2025, 6, 29, 20, tzinfo=UTC)


def test_bank_paid_gateway_not(gw: Gateway, ecwid: EcwidOrders) -> None:
    number = start(gw)
    gw.provider.set_status(number, 2)  # the bank took the money; no return, no callback, no poll yet

    result = reconcile_day(gw.ctx, DAY)

    assert findings(result) == [["bank_paid_gateway_not"]]
    assert result.rows[0].gateway_state == "registered"
    assert "confirm the attempt" in result.rows[0].findings[0].action


def test_gateway_paid_ecwid_not(gw: Gateway, ecwid: EcwidOrders) -> None:
    number = start(gw)
    bank_says(gw, number, 2)  # paid, but the Ecwid update has not gone out
    ecwid.orders[REFERENCE]["paymentStatus"] = "AWAITING_PAYMENT"

    result = reconcile_day(gw.ctx, DAY)

    assert findings(result) == [["ecwid_status_mismatch"]]
    finding = result.rows[0].findings[0]
    assert finding.detail == "gateway says PAID, Ecwid shows AWAITING_PAYMENT"
    assert finding.action == "retry the Ecwid update from the operator console"


def test_amount_mismatch_lists_the_open_exception(gw: Gateway, ecwid: EcwidOrders) -> None:
    number = start(gw)
    bank_says(gw, number, 2, amount_minor=100)  # the gateway refuses it and opens an operator exception

    result = reconcile_day(gw.ctx, DAY)

    assert findings(result) == [["bank_amount_mismatch", "open_exception"]]
    assert "amount_mismatch" in result.rows[0].findings[1].detail


def test_ecwid_total_differs(gw: Gateway, ecwid: EcwidOrders) -> None:
    paid_and_delivered(gw)
    ecwid.orders[REFERENCE]["total"] = 14000.0
    assert findings(reconcile_day(gw.ctx, DAY)) == [["ecwid_total_mismatch"]]


def test_refund_mismatch(gw: Gateway, ecwid: EcwidOrders) -> None:
    number = start(gw)
    bank_says(gw, number, 2)
    bank_says(gw, number, 4, refunded_minor=500000, deposited_minor=1500000)
    relay(gw.ctx)
    assert reconcile_day(gw.ctx, DAY).ok  # partially refunded everywhere
    gw.provider.set_status(number, 4, refunded_minor=700000, deposited_minor=1500000)  # a refund made at the bank

    result = reconcile_day(gw.ctx, DAY)

    assert findings(result) == [["refund_mismatch"]]
    assert result.rows[0].findings[0].detail == "bank refunded 700000, gateway 500000"


def test_double_charge_appears_once(gw: Gateway, ecwid: EcwidOrders) -> None:
    first = start(gw)
    bank_says(gw, first, 6, action_code="116")
    second = start(gw)
    assert second != first
    bank_says(gw, second, 2)
    relay(gw.ctx)
    gw.provider.set_status(first, 2)  # the abandoned attempt was paid too

    result = reconcile_day(gw.ctx, DAY)

    assert [r.order_number for r in result.rows] == [first, second]
    assert findings(result) == [["bank_paid_gateway_not"], ["double_charge"]]
    assert [r.compared_with_ecwid for r in result.rows] == [False, True]


def test_bank_unreachable(gw: Gateway, ecwid: EcwidOrders) -> None:
    paid_and_delivered(gw)
    gw.provider.status_error = unavailable()

    result = reconcile_day(gw.ctx, DAY)

    assert findings(result) == [["bank_unchecked"]]
    finding = result.rows[0].findings[0]
    assert finding.detail == "ProviderUnavailable: getOrderStatusExtended.do timed out"
    assert "rerun" in finding.action
    assert result.rows[0].bank_state == "unknown"


def test_ecwid_403(gw: Gateway, ecwid: EcwidOrders) -> None:
    paid_and_delivered(gw)
    ecwid.fail_next(403, "INVALID_API_TOKEN")

    result = reconcile_day(gw.ctx, DAY)

    assert findings(result) == [["ecwid_unchecked"]]
    detail = result.rows[0].findings[0].detail
    assert detail == "EcwidApiError: Ecwid API answered 403 INVALID_API_TOKEN"
    assert ECWID_TOKEN not in render_csv(result) + render_html(result)


def snapshot(gw: Gateway) -> dict[str, list[tuple[Any, ...]]]:
    with gw.ctx.db.engine.connect() as conn:
        return {
            table.name: [tuple(r) for r in conn.execute(select(table).order_by(*table.primary_key.columns))]
            for table in Base.metadata.sorted_tables
        }


def test_reconciliation_changes_nothing(gw: Gateway, ecwid: EcwidOrders) -> None:
    paid_and_delivered(gw)
    other = start(gw, reference="transaction_2", order_id="XJ13H")
    gw.provider.set_status(other, 2, amount_minor=1)
    bank_says(gw, other, 2, amount_minor=1)  # an open exception
    ecwid.add("transaction_2", status="AWAITING_PAYMENT")
    before, counts = snapshot(gw), gw.row_counts()
    registrations, puts = gw.provider.register_calls, [c for c in ecwid.calls if c[0] == "PUT"]
    assert counts["operator_exceptions"] == 1 and counts["outbox"] >= 1

    for _ in range(2):
        result = reconcile_day(gw.ctx, DAY)
        assert not result.ok

    assert snapshot(gw) == before and gw.row_counts() == counts
    assert gw.provider.register_calls == registrations
    assert [c for c in ecwid.calls if c[0] == "PUT"] == puts
    assert {m for m, _ in ecwid.calls[-4:]} == {"GET"}


def test_csv_escapes_formulas_and_keeps_columns(gw: Gateway, ecwid: EcwidOrders, tmp_path: Path) -> None:
    start(gw, order_id='=HYPERLINK("http://evil.example")')
    ecwid.orders[REFERENCE]["paymentStatus"] = "@SUM(A1)"

    result = reconcile_day(gw.ctx, DAY)
    csv_path, _ = write_reports(result, tmp_path)
    content = csv_path.read_text(encoding="utf-8")

    lines = content.splitlines()
    assert lines[0] == ",".join(CSV_COLUMNS)
    assert "'=HYPERLINK" in content and "'@SUM(A1)" in content
    assert not any(cell.startswith(("=", "@", "+")) for line in lines[1:] for cell in line.split(","))
    assert [safe_cell(v) for v in ("-1", "+1", "\tx", "a=b", 5, None)] == ["'-1", "'+1", "'\tx", "a=b", "5", ""]


def test_html_has_counts_mismatches_first_and_no_secrets(gw: Gateway, ecwid: EcwidOrders, tmp_path: Path) -> None:
    paid_and_delivered(gw)
    other = start(gw, reference="transaction_2", order_id="<b>XJ13H</b>")
    gw.provider.set_status(other, 2)
    ecwid.add("transaction_2")

    result = reconcile_day(gw.ctx, DAY)
    csv_path, html_path = write_reports(result, tmp_path)
    page = html_path.read_text(encoding="utf-8")

    assert html_path.name == "reconcile-2025-06-30.html" and csv_path.name == "reconcile-2025-06-30.csv"
    assert result.counts() == {"attempts": 2, "agreeing": 1, "mismatching": 1, "bank_paid_gateway_not": 1}
    assert "<tr><th>attempts checked</th><td>2</td></tr>" in page
    assert '<tr><th>agreeing</th><td class="good">1</td></tr>' in page
    assert page.index('id="mismatches"') < page.index('<details id="agreeing"')
    assert "&lt;b&gt;XJ13H&lt;/b&gt;" in page and "<b>XJ13H" not in page
    assert "Reconciliation of 2025-06-30" in page and result.started_at.isoformat(timespec="seconds") in page
    assert "http://" not in page and "https://" not in page  # self-contained
    both = page + csv_path.read_text(encoding="utf-8")
    for secret in (ECWID_TOKEN, CLIENT_SECRET, TOKEN_KEY, *gw.settings.secret_values):
        assert secret not in both


# --- the command ----------------------------------------------------------------------------------------------


def cli_env(database_url: str) -> dict[str, str]:
    closed = "http://127.0.0.1:9"  # nothing listens: the bank and Ecwid cannot be asked
    return {
        "VPOSLAB_PROVIDER_MODE": "TEST",
        "VPOSLAB_PUBLIC_URL": "http://gateway.test",
        "VPOSLAB_ECWID_CLIENT_SECRETS": json.dumps({str(STORE_ID): CLIENT_SECRET}),
        "VPOSLAB_PROVIDER_CREDENTIALS": json.dumps({"AMD": {"user_name": "lab_amd_api", "password": "bank-pw-amd"}}),
        "VPOSLAB_TOKEN_KEY": TOKEN_KEY,
        "VPOSLAB_DATABASE_URL": database_url,
        "VPOSLAB_PROVIDER_BASE_URL": f"{closed}/payment/rest/",
        "VPOSLAB_ECWID_API_URL": f"{closed}/api/v3",
        "VPOSLAB_HTTP_TIMEOUT_S": "2",
    }


def run_cli(database_url: str, *args: str) -> Any:
    return CliRunner().invoke(main, ["reconcile", *args], env=cli_env(database_url))


def test_cli_exit_0_when_everything_agrees(database_url: str, tmp_path: Path) -> None:
    migrate_database(database_url)
    result = run_cli(database_url, "--date", "2025-06-30", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "2025-06-30: 0 attempts, 0 agree, 0 mismatch" in result.output
    assert (tmp_path / "reconcile-2025-06-30.csv").is_file() and (tmp_path / "reconcile-2025-06-30.html").is_file()


def test_cli_exit_1_lists_each_mismatch(gw: Gateway, database_url: str, tmp_path: Path) -> None:
    number = start(gw)
    result = run_cli(database_url, "--date", "2025-06-30", "--out", str(tmp_path))
    assert result.exit_code == 1, result.output
    assert f"MISMATCH store {STORE_ID} order XJ12H orderNumber {number}: bank_unchecked" in result.output
    assert "ecwid_unchecked" in result.output
    assert str(tmp_path / "reconcile-2025-06-30.csv") in result.output
    assert "bank-pw-amd" not in (tmp_path / "reconcile-2025-06-30.csv").read_text(encoding="utf-8")


def test_cli_exit_2_when_the_run_cannot_work(database_url: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    bad_date = run_cli(database_url, "--date", "30/06/2025", "--out", str(out))
    assert bad_date.exit_code == 2
    not_migrated = run_cli(database_url, "--date", "2025-06-30", "--out", str(out))
    assert not_migrated.exit_code == 2
    assert "vposlab-gateway migrate" in not_migrated.output
    assert not out.exists()
    with_settings_missing = CliRunner().invoke(main, ["reconcile"], env={"VPOSLAB_PROVIDER_MODE": ""})
    assert with_settings_missing.exit_code == 2


def test_cli_default_day_is_today_utc(database_url: str, tmp_path: Path) -> None:
    migrate_database(database_url)
    result = run_cli(database_url, "--out", str(tmp_path))
    today = datetime.now(UTC).date().isoformat()
    assert result.exit_code == 0, result.output
    assert (tmp_path / f"reconcile-{today}.csv").is_file()


def test_snapshot_helper_sees_every_table(gw: Gateway) -> None:
    with gw.ctx.db.engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
    assert {"payment_attempts", "outbox", "refunds", "operator_actions"} <= set(snapshot(gw))
