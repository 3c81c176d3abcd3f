"""The RC-25 secrets scan finds a secret in every form a leak takes, names it without its value, and reads every
row of a database."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from sqlalchemy import Column, MetaData, String, Table, create_engine, insert

from features.support.secret_scan import SecretScan, leak_forms

SECRET = 'pw+Canary/42&x="y"<z>'


@pytest.mark.parametrize(
    "leaked",
    [
        SECRET,
        quote(SECRET, safe=""),
        quote_plus(SECRET),
        html.escape(SECRET),
        json.dumps(SECRET)[1:-1],
        base64.b64encode(SECRET.encode()).decode(),
        base64.urlsafe_b64encode(SECRET.encode()).decode(),
    ],
)
def test_each_form_of_a_leak_is_found_and_named_without_the_value(leaked: str) -> None:
    scan = SecretScan({"bank_password_amd": SECRET})
    scan.text("a page", f"<p>before {leaked} after</p>")
    assert [leak.secret for leak in scan.leaks] == ["bank_password_amd"]
    assert SECRET not in scan.describe()
    assert leaked not in scan.describe()


def test_clean_text_has_no_leak_and_short_forms_are_not_searched() -> None:
    scan = SecretScan({"key": SECRET})
    scan.text("a page", "nothing here but pw+Canary")
    assert scan.leaks == [] and scan.read == 1
    assert all(len(form) >= 8 for form in leak_forms("abc").values())


def test_log_lines_are_read_from_an_offset(tmp_path: Path) -> None:
    log = tmp_path / "gateway.log"
    log.write_text(f"old line with {SECRET}\n", encoding="utf-8")
    start = log.stat().st_size
    with log.open("a", encoding="utf-8") as handle:
        encoded = quote(SECRET, safe="")
        handle.write('{"event": "clean"}\n' + f'{{"event": "leaky {encoded}"}}\n')
    scan = SecretScan({"key": SECRET})
    assert scan.log_lines(log, start) == 2
    assert [leak.where for leak in scan.leaks] == ["gateway.log line 2 after the scenario began"]


def test_every_row_and_column_of_every_table_is_read(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    metadata = MetaData()
    table = Table("sessions", metadata, Column("id", String, primary_key=True), Column("token", String))
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(table), [{"id": "a", "token": "sealed"}, {"id": "b", "token": f"x{SECRET}"}])
    scan = SecretScan({"ecwid_token": SECRET})
    assert scan.database(engine) == 2
    assert [(leak.where, leak.form) for leak in scan.leaks] == [("database sessions.token", "as is")]
    engine.dispose()
