"""The collaborators every use case needs, built once by ``create_app`` (or a worker) and passed explicitly."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.clock import Clock
from gateway.ecwid.orders_client import EcwidOrdersClient
from gateway.provider.port import VposProvider
from gateway.services.tokens import TokenBox
from gateway.settings import Settings
from gateway.store.database import Database


@dataclass
class GatewayContext:
    settings: Settings
    db: Database
    provider: VposProvider
    ecwid: EcwidOrdersClient
    clock: Clock
    tokens: TokenBox
