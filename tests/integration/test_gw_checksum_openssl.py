"""The callback checksum agrees with OpenSSL's HMAC-SHA256 over the protocols.md 2.8 worked string
(integration: it spawns the ``openssl`` CLI)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from gateway.provider.checksum import checksum_string, compute_checksum, verify_checksum

KEY = "callback-shared-key-01"
PARAMS = {
    "amount": "123456",
    "mdOrder": "3ff6962a-7dcc-4283-ab50-a6d7dd3386fe",
    "operation": "deposited",
    "orderNumber": "10747",
    "status": "1",
}
OPENSSL = shutil.which("openssl")


@pytest.mark.skipif(OPENSSL is None, reason="openssl CLI not installed")
def test_checksum_equals_openssl_hmac_sha256_of_the_worked_string() -> None:
    assert OPENSSL is not None
    message = (
        "amount;123456;mdOrder;3ff6962a-7dcc-4283-ab50-a6d7dd3386fe;operation;deposited;orderNumber;10747;status;1;"
    )
    assert checksum_string(PARAMS) == message
    result = subprocess.run(
        [OPENSSL, "dgst", "-sha256", "-hmac", KEY],
        input=message.encode(),
        capture_output=True,
        check=True,
        timeout=20,
    )
    openssl_hex = result.stdout.decode().strip().rsplit(" ", 1)[-1]
    assert len(openssl_hex) == 64
    assert compute_checksum(PARAMS, KEY) == openssl_hex.upper()
    assert verify_checksum({**PARAMS, "checksum": openssl_hex.upper()}, KEY)
    assert verify_checksum({**PARAMS, "checksum": openssl_hex.lower()}, KEY)
