"""A certificate authority made on the spot with openssl, for the local secured cluster.

Everything is PEM, which both Kafka (``ssl.keystore.type=PEM``) and Python's ``ssl`` read:
the CA's certificate (clients trust it), and certificates it signs for the brokers (valid
for 127.0.0.1 and localhost) and for clients that use mutual TLS. Keys are EC P-256,
unencrypted PKCS#8, readable by their owner only. Nothing here is fit for production.
"""

import argparse
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

DAYS = 30
_CURVE = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


class TlsError(RuntimeError):
    """openssl is missing or refused to make a certificate."""


@dataclass(frozen=True)
class Issued:
    """A certificate and its key, and the two in one file (Kafka's PEM keystore)."""

    certificate: Path
    key: Path
    keystore: Path


@dataclass(frozen=True)
class CertificateAuthority:
    certificate: Path
    key: Path

    def issue(self, name: str, common_name: str, hosts: tuple[str, ...] = ()) -> Issued:
        """A certificate for ``common_name`` signed by this CA, valid for ``hosts`` (IPs or DNS names)."""
        directory = self.certificate.parent
        key, request, certificate = (directory / f"{name}{suffix}" for suffix in (".key", ".csr", ".pem"))
        extensions = directory / f"{name}.ext"
        names = ",".join(f"IP:{host}" if host[:1].isdigit() else f"DNS:{host}" for host in hosts)
        extensions.write_text(
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
            "extendedKeyUsage=serverAuth,clientAuth\n" + (f"subjectAltName={names}\n" if names else "")
        )
        _openssl("req", *_CURVE, "-keyout", key, "-out", request, "-subj", f"/CN={common_name}")
        _openssl(
            "x509", "-req", "-in", request, "-CA", self.certificate, "-CAkey", self.key, "-CAcreateserial",
            "-days", str(DAYS), "-sha256", "-extfile", extensions, "-out", certificate,
        )  # fmt: skip
        keystore = directory / f"{name}.keystore.pem"
        keystore.write_text(key.read_text() + certificate.read_text())
        for private in (key, keystore):
            private.chmod(0o600)
        request.unlink()
        extensions.unlink()
        return Issued(certificate, key, keystore)


def create_ca(directory: Path, common_name: str = "Tienda devkit CA") -> CertificateAuthority:
    """A new self-signed CA in ``directory`` (ca.pem, ca.key)."""
    directory.mkdir(parents=True, exist_ok=True)
    certificate, key = directory / "ca.pem", directory / "ca.key"
    _openssl(
        "req", "-x509", *_CURVE, "-keyout", key, "-out", certificate, "-days", str(DAYS), "-sha256",
        "-subj", f"/CN={common_name}/O=Tienda devkit",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    key.chmod(0o600)
    return CertificateAuthority(certificate, key)


def _openssl(*arguments: str | Path) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise TlsError("`openssl` is not on PATH: apt-get install openssl")
    command = [openssl, *map(str, arguments)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise TlsError(f"{' '.join(command)} failed (exit {result.returncode}):\n{result.stderr[-2000:]}")


def main(argv: list[str] | None = None) -> int:
    """`python -m tienda.devkit.tls DIR [--hosts kafka,localhost]`: a CA and a broker certificate
    (ca.pem, broker.keystore.pem) for docker-compose.secured.yml or any broker of your own."""
    parser = argparse.ArgumentParser(prog="python -m tienda.devkit.tls", description=main.__doc__)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--hosts", default="localhost,127.0.0.1", help="names and addresses of the brokers")
    args = parser.parse_args(argv)
    authority = create_ca(args.directory)
    issued = authority.issue("broker", "tienda-broker", tuple(args.hosts.split(",")))
    print(f"CA {authority.certificate}; broker keystore (PEM key and certificate) {issued.keystore}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
