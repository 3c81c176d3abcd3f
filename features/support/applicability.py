"""How a scenario ends when the target cannot support it: the skip reasons the readiness report reads.

``not_applicable(why)``: the target does not have the thing at all (another gateway has no console of ours, a bank
TEST environment cannot be steered like the simulator); the item is NOT APPLICABLE with ``why``, never PASS.
``not_run_here(why)``: it could be checked, but not from here (the gateway's own clock or records of a gateway
started elsewhere, a secret whose variable is not set); the scenario did not run, so its item is NOT RUN.
"""

from __future__ import annotations

from typing import NoReturn

import pytest

NOT_APPLICABLE = "NOT APPLICABLE: "
NOT_RUN = "NOT RUN: "


def not_applicable(why: str) -> NoReturn:
    pytest.skip(NOT_APPLICABLE + why)


def not_run_here(why: str) -> NoReturn:
    pytest.skip(NOT_RUN + why)
