"""Throwaway TLS for the endpoint probes' own tests and the lab: a CA (and intermediates), server certificates
(good, expired, for another host, self-signed, about to expire, served without their intermediate) and an HTTPS
server thread on 127.0.0.1.

Nothing here is trusted by anything but the one probe run that is handed the CA's PEM file; keys live in memory and
in the given temporary folder only. EC P-256 keys: fast to make.
"""

from __future__ import annotations

import ipaddress
import ssl
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

LOCAL_HOSTS = ("127.0.0.1", "localhost")


@dataclass(frozen=True)
class ServerCertificate:
    """A PEM certificate and its private key, written to ``cert_file``/``key_file`` by ``ThrowawayCA.issue``."""

    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "vposlab probe tests"),
        ]
    )


def _san(hosts: Sequence[str]) -> x509.SubjectAlternativeName:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return x509.SubjectAlternativeName(names)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


class ThrowawayCA:
    """A CA made for one test run, and the server certificates it (or nobody: ``self_signed``) issues."""

    def __init__(self, folder: Path, name: str = "vposlab throwaway CA", *, parent: ThrowawayCA | None = None) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.parent = parent
        self._key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        self._name = _name(name)
        builder = (
            x509.CertificateBuilder()
            .subject_name(self._name)
            .issuer_name(parent._name if parent else self._name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0 if parent else 1), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self._key.public_key()), critical=False)
        )
        if parent is not None:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(parent._key.public_key()), critical=False
            )
        self._cert = builder.sign(parent._key if parent else self._key, hashes.SHA256())
        self.ca_file = folder / ("intermediate.pem" if parent else "ca.pem")
        self.ca_file.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))

    def intermediate(self, name: str = "vposlab throwaway intermediate CA") -> ThrowawayCA:
        """A CA this one signs: its server certificates verify against this CA only when the server sends the
        intermediate along (``issue(..., chain=True)``), as a correctly configured server does."""
        return ThrowawayCA(self.folder, name, parent=self)

    def issue(
        self,
        label: str,
        hosts: Sequence[str] = LOCAL_HOSTS,
        *,
        valid_from: timedelta = timedelta(days=-1),
        valid_until: timedelta = timedelta(days=90),
        self_signed: bool = False,
        chain: bool = True,
    ) -> ServerCertificate:
        """A server certificate for ``hosts``, valid from ``now + valid_from`` to ``now + valid_until``, signed by
        this CA (or by its own key: ``self_signed``); an intermediate CA's certificate follows the server's in the
        file unless ``chain`` is False (the classic misconfiguration: the server does not send the intermediate)."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        subject = _name(hosts[0] if hosts else label)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject if self_signed else self._name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now + valid_from)
            .not_valid_after(now + valid_until)
            .add_extension(_san(hosts), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        )
        if not self_signed:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()), critical=False
            )
        cert = builder.sign(key if self_signed else self._key, hashes.SHA256())
        cert_file, key_file = self.folder / f"{label}.pem", self.folder / f"{label}.key"
        pem = cert.public_bytes(serialization.Encoding.PEM)
        if chain and self.parent is not None and not self_signed:
            pem += self._cert.public_bytes(serialization.Encoding.PEM)
        cert_file.write_bytes(pem)
        key_file.write_bytes(_key_pem(key))
        key_file.chmod(0o600)
        return ServerCertificate(cert_file, key_file)


class HttpsServerThread:
    """A threaded werkzeug server with TLS on 127.0.0.1 (a free port), serving ``app`` until ``stop``."""

    def __init__(
        self,
        app: Any,
        certificate: ServerCertificate,
        name: str = "https",
        *,
        on_stop: Callable[[], None] | None = None,
    ) -> None:
        self._on_stop = on_stop
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1", 0, app, threaded=True, ssl_context=certificate.server_context()
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"{name}-https", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self._server.port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()
        if self._on_stop is not None:
            self._on_stop()

    def __enter__(self) -> HttpsServerThread:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)


def gateway_front(gateway_url: str, certificate: ServerCertificate) -> HttpsServerThread:
    """A TLS-terminating front of the gateway at ``gateway_url``, as a deployment has one: every request is passed
    on as it came (method, path, query, headers, body) and every answer back as it went, redirects included (the
    bank follows none). Works for the lab's gateway and for one started elsewhere. Stop it before the gateway."""
    upstream = httpx.Client(base_url=gateway_url.rstrip("/"), timeout=30.0, follow_redirects=False)

    @Request.application
    def front(request: Request) -> Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        answer = upstream.request(
            request.method,
            request.full_path if request.query_string else request.path,
            headers=headers,
            content=request.get_data(),
        )
        kept = [(k, v) for k, v in answer.headers.multi_items() if k.lower() not in HOP_BY_HOP | {"content-encoding"}]
        return Response(answer.content, status=answer.status_code, headers=kept)

    return HttpsServerThread(front, certificate, "gateway-front", on_stop=upstream.close)
