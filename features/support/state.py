"""The typed state of one scenario. Given and When steps produce these objects and hand them on with pytest-bdd's
``target_fixture`` (the returned value becomes that fixture for the rest of the scenario); later steps request them
by name. No step shares a dict with another.

Each object registers itself in the scenario's ``scenario_state`` registry when it is made. That registry is for
evidence only (``features/conftest.py``'s after-scenario hook and ``features/support/evidence.py``): it knows the
journal mark and the order ids the scenario's journal excerpt starts from. Steps never read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Page

from features.support.evidence import harvest_ids


class EvidenceSource(Protocol):
    """What the evidence hooks ask every registered state object: the values that may name the scenario's orders
    (read with ``evidence.harvest_ids``: order dicts, URLs, HTTP answers; a value under ``order_id`` is an id)."""

    def evidence_values(self) -> Mapping[str, Any]: ...


class ScenarioState:
    """The per-scenario registry of state objects, read by the evidence hooks only."""

    def __init__(self) -> None:
        self.sources: list[EvidenceSource] = []

    def register(self, source: EvidenceSource) -> None:
        self.sources.append(source)

    @property
    def mark(self) -> int | None:
        """The simulator journal's mark when the scenario began, if a step took one."""
        for source in self.sources:
            if isinstance(source, Baseline):
                return source.mark
        return None

    def pages(self) -> list[Page]:
        return [source.page for source in self.sources if isinstance(source, Shopper)]

    def order_ids(self) -> set[str]:
        """The order ids (Ecwid ids, mdOrders, orderNumbers) the scenario's state objects name."""
        found: set[str] = set()
        for source in self.sources:
            found |= harvest_ids(source.evidence_values())
        return found


@pytest.fixture
def scenario_state() -> ScenarioState:
    return ScenarioState()


def md_order_of(url: str) -> str:
    """The bank order (mdOrder) a bank payment page URL is for."""
    return parse_qs(urlsplit(url).query)["mdOrder"][0]


@dataclass(frozen=True)
class Baseline:
    """What the outside world held before the scenario's first order: the journal mark and the bank's orders."""

    mark: int
    bank_before: frozenset[str]

    def evidence_values(self) -> Mapping[str, Any]:
        return {}  # earlier orders are not the scenario's own


@dataclass(frozen=True)
class Shopper:
    """A customer in the store: their browser page and the language they shop in."""

    page: Page
    lang: str = "en"

    def evidence_values(self) -> Mapping[str, Any]:
        return {}  # the page is watched by the evidence recorder itself


@dataclass(frozen=True)
class PayAnswer:
    """What the gateway answered when the store sent the customer to pay, and where the customer ended."""

    status: int
    url: str


@dataclass(frozen=True)
class EcwidOrderUnderTest:
    """The Ecwid order a scenario is about, and the bank payment pages it was sent to.

    ``order`` is the full Ecwid order when the scenario made it over the simulator's control API (API-only
    scenarios); ``form_url`` the first bank payment page, ``retry_form_url`` the one of a later attempt."""

    order_id: str
    order: Mapping[str, Any] | None = None
    form_url: str | None = None
    retry_form_url: str | None = None
    bank_order: Mapping[str, Any] | None = None
    pay_answer: PayAnswer | None = None

    @property
    def md_order(self) -> str:
        """The bank order of the first bank payment page."""
        assert self.form_url is not None, f"order {self.order_id} was never sent to a bank payment page"
        return md_order_of(self.form_url)

    @property
    def attempt_md_order(self) -> str:
        """The bank order of the customer's latest attempt (the bank page URL they were sent to last)."""
        url = self.retry_form_url or self.form_url
        assert url is not None, f"order {self.order_id} was never sent to a bank payment page"
        return md_order_of(url)

    @property
    def full_order(self) -> Mapping[str, Any]:
        assert self.order is not None, f"order {self.order_id} was not made over the control API"
        return self.order

    def evidence_values(self) -> Mapping[str, Any]:
        return {
            "order_id": self.order_id,
            "order": self.order,
            "form_url": self.form_url,
            "retry_form_url": self.retry_form_url,
            "bank_order": self.bank_order,
        }


@dataclass(frozen=True)
class RepeatedSubmit:
    """The bank page the customer reached by submitting the store's payment page a second time."""

    form_url: str

    def evidence_values(self) -> Mapping[str, Any]:
        return {"second_form_url": self.form_url}


@dataclass(frozen=True)
class GatewayAnswer:
    """The gateway's HTTP answer to a request a step sent it, and the form it sent (if any)."""

    response: httpx.Response
    sent: Mapping[str, str] = field(default_factory=dict)

    def evidence_values(self) -> Mapping[str, Any]:
        return {"response": self.response, "sent": dict(self.sent)}


@dataclass(frozen=True)
class GatewayAnswers:
    """The gateway's answers to the same request sent many times at once."""

    responses: tuple[httpx.Response, ...]

    def evidence_values(self) -> Mapping[str, Any]:
        return {"responses": list(self.responses)}


@dataclass(frozen=True)
class FailedRegistration:
    """A registration the bank failed: its orderNumber, and the bank order it left behind when only its answer
    was lost."""

    order_number: str
    lost_md_order: str | None = None

    def evidence_values(self) -> Mapping[str, Any]:
        return {"failed_order_number": self.order_number, "lost_md_order": self.lost_md_order}
