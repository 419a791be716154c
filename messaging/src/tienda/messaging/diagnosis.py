"""Why a client cannot reach Kafka, in the words readiness and logs use.

aiokafka reports a failed bootstrap as "Unable to bootstrap from [...]" whatever the cause.
``diagnose`` opens one connection to each bootstrap server the way the client would (TLS,
then SASL) and names what refused it: ``authentication failed for user store
(SCRAM-SHA-512)``, an untrusted certificate, a listener of another protocol, no listener.
"""

import asyncio
import ssl

from aiokafka.conn import create_conn
from aiokafka.errors import (
    AuthenticationFailedError,
    IllegalSaslStateError,
    KafkaConnectionError,
    KafkaError,
    SaslAuthenticationFailed,
    UnsupportedSaslMechanismError,
)

from tienda.messaging.connection import KafkaConnection


async def diagnose(connection: KafkaConnection, seconds: float = 3.0) -> str | None:
    """What keeps ``connection`` from Kafka, one sentence per distinct cause; None when a
    bootstrap server accepted it (then the trouble is elsewhere: metadata, authorization)."""
    options = {key: value for key, value in connection.client_options().items() if key != "bootstrap_servers"}
    causes: dict[str, list[str]] = {}  # a cause, with {where} left open, and the servers it holds for
    for server in connection.servers:
        host, _, port = server.rpartition(":")
        try:
            async with asyncio.timeout(seconds):
                conn = await create_conn(
                    host, int(port), client_id="tienda-diagnosis", request_timeout_ms=int(seconds * 1000), **options
                )
            conn.close()
            return None
        except (KafkaError, OSError, TimeoutError) as error:
            causes.setdefault(_explain(error, connection, seconds), []).append(f"{host}:{port}")
    return "; ".join(cause.replace("{where}", ", ".join(servers)) for cause, servers in causes.items())


def _explain(error: BaseException, connection: KafkaConnection, seconds: float) -> str:
    """The cause in words, ``{where}`` standing for the servers it holds for."""
    where = "{where}"
    protocol, mechanism = connection.security_protocol, connection.sasl_mechanism
    explanations: list[tuple[type[BaseException], str]] = [
        (
            (SaslAuthenticationFailed, AuthenticationFailedError),  # type: ignore[list-item]
            f"authentication failed for user {connection.sasl_username} ({mechanism})",
        ),
        (UnsupportedSaslMechanismError, f"{where} does not offer {mechanism}: {error}"),
        (ConnectionRefusedError, f"nothing listens on {where}"),
        (TimeoutError, f"no answer from {where} within {seconds:g} s ({protocol})"),
        (
            (KafkaConnectionError, IllegalSaslStateError, ConnectionError),  # type: ignore[list-item]
            f"{where} closed the connection during the {protocol} handshake: is the listener of that protocol?",
        ),
    ]
    if isinstance(error, ssl.SSLCertVerificationError):
        return (
            f"the TLS certificate of {where} is not trusted ({error.verify_message}): "
            "check that KAFKA_SSL_CA_FILE names the CA that signed the brokers' certificates"
        )
    if isinstance(error, ssl.SSLError):
        return _tls_failure(where, error)
    for kind, explanation in explanations:
        if isinstance(error, kind):
            return explanation
    return f"{where}: {type(error).__name__}: {error}"


def _tls_failure(where: str, error: ssl.SSLError) -> str:
    reason = (error.reason or str(error)).upper()
    if "CERTIFICATE_REQUIRED" in reason or "HANDSHAKE_FAILURE" in reason:
        return (
            f"{where} refused the TLS handshake ({error.reason}): it may require a client certificate "
            "(KAFKA_SSL_CERT_FILE, KAFKA_SSL_KEY_FILE)"
        )
    if "WRONG_VERSION_NUMBER" in reason or "RECORD_LAYER" in reason:
        return f"{where} does not speak TLS ({error.reason}): use PLAINTEXT or SASL_PLAINTEXT for this listener"
    return f"TLS handshake with {where} failed: {error.reason or error}"
