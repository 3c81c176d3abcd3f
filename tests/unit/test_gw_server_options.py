"""The production server's configuration is one gunicorn accepts as given, and shares nothing with another gateway
on the same host (no per-user control socket)."""

from __future__ import annotations

from gunicorn.config import Config  # type: ignore[import-untyped]

from gateway.server import ServerOptions


def test_every_option_is_a_gunicorn_setting_and_keeps_its_value() -> None:
    config = Config()
    options = ServerOptions(host="127.0.0.2", port=8200, workers=3, threads=4, timeout_s=45, graceful_timeout_s=20)
    for key, value in options.gunicorn_config().items():
        config.set(key, value)  # an unknown key raises AttributeError
    assert config.bind == ["127.0.0.2:8200"]
    assert (config.workers, config.threads, config.timeout, config.graceful_timeout) == (3, 4, 45, 20)
    assert config.worker_class_str == "gthread"
    assert config.preload_app is False


def test_the_control_socket_is_off_so_gateways_on_one_host_do_not_share_it() -> None:
    config = Config()
    for key, value in ServerOptions().gunicorn_config().items():
        config.set(key, value)
    assert config.control_socket_disable is True
