"""The reconciliation as files: CSV (one line per finding, ``ok`` for an agreeing attempt) and one self-contained
HTML page (Jinja2, autoescape, ``StrictUndefined``; inline style, no external resources).

Data in, template out: ``gateway.domain.reconciliation.Reconciliation`` -> plain values -> output. CSV cells that
a spreadsheet would run as a formula (starting with ``= + - @``, tab or carriage return) are prefixed with ``'``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import jinja2

from gateway.domain.reconciliation import Finding, FindingCode, Reconciliation, Row

TEMPLATES = Path(__file__).resolve().parent.parent / "web" / "templates" / "reconcile"
CSV_COLUMNS = (
    "day",
    "store_id",
    "ecwid_order_id",
    "reference_transaction_id",
    "order_number",
    "md_order",
    "attempt_no",
    "amount",
    "currency",
    "gateway_state",
    "bank_state",
    "ecwid_payment_status",
    "finding",
    "detail",
    "action",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_OK = Finding(FindingCode.OK)


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: formula-like values get a leading quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _lines(result: Reconciliation) -> list[list[str]]:
    lines = []
    for row in (*result.mismatches, *result.agreeing):
        for finding in row.findings or (_OK,):
            values = (
                result.day.isoformat(),
                row.store_id,
                row.ecwid_order_id,
                row.reference_transaction_id,
                row.order_number,
                row.provider_order_id,
                row.attempt_no,
                row.amount.split(" ")[0],
                row.currency,
                row.gateway_state,
                row.bank_state,
                row.ecwid_payment_status if row.compared_with_ecwid else "",
                finding.code.value,
                finding.detail,
                finding.action,
            )
            lines.append([safe_cell(v) for v in values])
    return lines


def render_csv(result: Reconciliation) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(_lines(result))
    return out.getvalue()


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def _row_view(row: Row) -> dict[str, object]:
    return {
        "store_id": row.store_id,
        "ecwid_order_id": row.ecwid_order_id,
        "reference_transaction_id": row.reference_transaction_id,
        "order_number": row.order_number,
        "md_order": row.provider_order_id,
        "attempt_no": row.attempt_no,
        "amount": row.amount,
        "gateway_state": row.gateway_state,
        "bank_state": row.bank_state,
        "ecwid_payment_status": (row.ecwid_payment_status or "?") if row.compared_with_ecwid else "",
        "findings": [{"code": f.code.value, "detail": f.detail, "action": f.action} for f in row.findings],
    }


def render_html(result: Reconciliation) -> str:
    context = {
        "day": result.day.isoformat(),
        "timezone": result.timezone,
        "started_at": result.started_at.isoformat(timespec="seconds"),
        "finished_at": result.finished_at.isoformat(timespec="seconds"),
        "counts": result.counts(),
        "mismatches": [_row_view(r) for r in result.mismatches],
        "agreeing": [_row_view(r) for r in result.agreeing],
    }
    return _environment().get_template("report.html").render(**context)


def write_reports(result: Reconciliation, out_dir: Path) -> tuple[Path, Path]:
    """Write ``reconcile-YYYY-MM-DD.csv`` and ``.html`` under ``out_dir`` (created); returns both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"reconcile-{result.day.isoformat()}"
    csv_path, html_path = out_dir / f"{stem}.csv", out_dir / f"{stem}.html"
    csv_path.write_text(render_csv(result), encoding="utf-8", newline="")
    html_path.write_text(render_html(result), encoding="utf-8")
    return csv_path, html_path


def summary_lines(result: Reconciliation) -> list[str]:
    """One line per mismatching attempt, for the console."""
    return [
        f"MISMATCH store {r.store_id} order {r.ecwid_order_id} orderNumber {r.order_number}: "
        + "; ".join(f"{f.code.value} ({f.detail})" if f.detail else f.code.value for f in r.findings)
        for r in result.mismatches
    ]
