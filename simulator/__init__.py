"""vposlab simulator: a faithful stand-in for the bank (ArCa vPOS = BPC RBS API) and for Ecwid.

Build it with ``create_app(SimulatorConfig(...))``; it never imports the gateway, so it can test any gateway
over real HTTP. See ``simulator/README.md``.
"""

from __future__ import annotations

from simulator.app import create_app, get_state
from simulator.config import EcwidStore, SimulatorConfig, VposMerchant
from simulator.state import SimulatorState

__all__ = ["EcwidStore", "SimulatorConfig", "SimulatorState", "VposMerchant", "create_app", "get_state"]
