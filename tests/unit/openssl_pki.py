"""A throw-away test CA and server certificates, made with the openssl command at test time.

Used by the unit tests of the TLS client (local servers on 127.0.0.1) and by the lab's
Portainer stand-in (nginx on a lab host). Every server certificate shares one key:

- ``server_cert``: for the address (and ``portainer.tecrax-lab.test``), valid now;
- ``misnamed_cert``: valid now, but only for ``elsewhere.tecrax-lab.test``;
- ``expired_cert``: for the address, valid for one day in 2020;
- ``future_cert``: for the address, valid from 2099 on;
- ``other_ca_file``: a second CA that issued none of them;
- ``self_signed_cert`` / ``self_signed_key``: a self-signed server certificate (no CA flag)
  for the address, as products make for themselves when nobody gives them one.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

NAME = "portainer.tecrax-lab.test"
OTHER_NAME = "elsewhere.tecrax-lab.test"

CA_CONFIG = """\
[ca]
default_ca = test
[test]
database = index.txt
new_certs_dir = .
serial = serial
unique_subject = no
default_md = sha256
policy = anything
copy_extensions = none
[anything]
commonName = supplied
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = $ENV::TECRAX_SAN
"""


@dataclass(frozen=True)
class Pki:
    directory: Path
    ca_file: Path
    other_ca_file: Path
    server_cert: Path
    misnamed_cert: Path
    expired_cert: Path
    future_cert: Path
    server_key: Path
    self_signed_cert: Path
    self_signed_key: Path


def _openssl(directory: Path, *args: str, san: str = "") -> None:
    subprocess.run(
        ["openssl", *args], cwd=directory, check=True, capture_output=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "TECRAX_SAN": san},
    )  # fmt: skip


def _new_key_args(key: str) -> list[str]:
    return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key]


def _make_ca(directory: Path, name: str) -> Path:
    _openssl(
        directory, "req", "-x509", *_new_key_args(f"{name}.key"), "-out", f"{name}.pem", "-days", "2",
        "-subj", f"/CN=Tecrax test {name}",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    return directory / f"{name}.pem"


def make_pki(directory: Path, address: str) -> Pki:
    """Make everything in ``directory`` (created) for a server reached at ``address``."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_file = _make_ca(directory, "ca")
    other_ca_file = _make_ca(directory, "other-ca")
    (directory / "ca.cnf").write_text(CA_CONFIG)
    (directory / "index.txt").write_text("")
    (directory / "serial").write_text("1000\n")
    _openssl(directory, "req", "-new", *_new_key_args("server.key"), "-out", "server.csr", "-subj", "/CN=server")

    def issue(out: str, san: str, *validity: str) -> Path:
        _openssl(
            directory, "ca", "-batch", "-notext", "-config", "ca.cnf", "-extensions", "server",
            "-cert", "ca.pem", "-keyfile", "ca.key", "-in", "server.csr", "-out", out, *validity, san=san,
        )  # fmt: skip
        return directory / out

    san = f"IP:{address},DNS:{NAME}"
    _openssl(
        directory, "req", "-x509", *_new_key_args("self-signed.key"), "-out", "self-signed.pem", "-days", "2",
        "-subj", "/CN=self-signed", "-addext", f"subjectAltName={san}", "-addext", "basicConstraints=critical,CA:FALSE",
    )  # fmt: skip
    return Pki(
        directory=directory,
        ca_file=ca_file,
        other_ca_file=other_ca_file,
        server_cert=issue("server.pem", san, "-days", "2"),
        misnamed_cert=issue("misnamed.pem", f"DNS:{OTHER_NAME}", "-days", "2"),
        expired_cert=issue("expired.pem", san, "-startdate", "20200101000000Z", "-enddate", "20200102000000Z"),
        future_cert=issue("future.pem", san, "-startdate", "20990101000000Z", "-enddate", "20990102000000Z"),
        server_key=directory / "server.key",
        self_signed_cert=directory / "self-signed.pem",
        self_signed_key=directory / "self-signed.key",
    )
