"""Token key rotation: several keys, the newest encrypts and every one decrypts; ``rotate-token-key`` re-encrypts
every stored secret under the newest key, after which the old key can go."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from gateway import build_context
from gateway.domain.errors import ConfigurationError
from gateway.services.key_rotation import rotate_stored_secrets
from gateway.services.tokens import TokenBox
from gateway.store.models import PaymentSession
from tests.gateway_fakes import ECWID_TOKEN, TOKEN_KEY, Gateway, make_settings


def test_the_newest_key_encrypts_and_every_key_decrypts() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed_old = TokenBox(old).seal("secret_token")
    both = TokenBox(f"{new}, {old}")
    assert both.open(sealed_old) == "secret_token"
    assert TokenBox(new).open(both.seal("secret_token")) == "secret_token"  # sealed under the newest
    with pytest.raises(ConfigurationError):
        TokenBox(new).open(sealed_old)
    with pytest.raises(ConfigurationError):
        TokenBox(f"{new},not-a-key")


def test_rotation_re_encrypts_stored_tokens_so_the_old_key_can_go(gw: Gateway, database_url: str) -> None:
    gw.start()
    new = Fernet.generate_key().decode()
    rotating = build_context(make_settings(database_url, token_key=f"{new},{TOKEN_KEY}"), clock=gw.clock)
    try:
        result = rotate_stored_secrets(rotating)
        assert (result.rotated, result.unreadable) == (1, 0)
        assert rotate_stored_secrets(rotating).rotated == 0  # again: nothing left to do
    finally:
        rotating.db.dispose()
    with gw.ctx.db.session() as session:
        sealed = session.scalars(select(PaymentSession.token_encrypted)).one()
    assert TokenBox(new).open(sealed) == ECWID_TOKEN
    with pytest.raises(ConfigurationError):
        TokenBox(TOKEN_KEY).open(sealed)


def test_a_secret_no_key_opens_is_reported_and_left_alone(gw: Gateway, database_url: str) -> None:
    gw.start()
    stranger = build_context(make_settings(database_url, token_key=Fernet.generate_key().decode()), clock=gw.clock)
    try:
        assert rotate_stored_secrets(stranger).unreadable == 1
    finally:
        stranger.db.dispose()
    assert gw.ctx.tokens.open(gw.payment_session().token_encrypted) == ECWID_TOKEN
