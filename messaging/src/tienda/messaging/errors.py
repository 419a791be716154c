"""How a failure is classified: worth retrying, or never going to work."""

from collections.abc import Iterator

from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError, NodeNotReadyError, RequestTimedOutError
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout


class PermanentFailure(Exception):
    """This message can never be processed as it is: it goes to the dead-letter topic."""


class PoisonMessage(PermanentFailure):
    """The bytes are not a Tienda message: undecodable, not JSON, wrong schema or unknown type."""


class UnresolvableReference(PermanentFailure):
    """The message refers to something that does not exist and never will."""


TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    OperationalError,  # SQLite: database is locked; PostgreSQL: server closed the connection
    DisconnectionError,
    PoolTimeout,
    OSError,  # connection refused or reset, including ConnectionError
    TimeoutError,
    KafkaConnectionError,
    KafkaTimeoutError,
    NodeNotReadyError,
    RequestTimedOutError,
)

# SQLSTATE classes that say "the server, not the request": connection exception,
# insufficient resources, operator intervention (shutdown, crash recovery), serialization.
TRANSIENT_SQLSTATE_PREFIXES = ("08", "53", "57P", "40001", "40P01")


def is_transient(error: BaseException) -> bool:
    """Whether trying again later may succeed: the database or broker is down or busy."""
    return any(_transient_link(link) for link in _chain(error))


def _transient_link(error: BaseException) -> bool:
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, TRANSIENT_TYPES) or "database is locked" in str(error):
        return True
    sqlstate = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    return isinstance(sqlstate, str) and sqlstate.startswith(TRANSIENT_SQLSTATE_PREFIXES)


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error, what it wraps (a DBAPI error's ``orig``) and what caused it."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else (current.__cause__ or current.__context__)
