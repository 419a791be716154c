"""How a failure is classified: worth retrying, or never going to work."""

import asyncio

from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError
from sqlalchemy.exc import DBAPIError, OperationalError


class PermanentFailure(Exception):
    """This message can never be processed as it is: it goes to the dead-letter topic."""


class PoisonMessage(PermanentFailure):
    """The bytes are not a Tienda message: undecodable, not JSON, wrong schema or unknown type."""


class UnresolvableReference(PermanentFailure):
    """The message refers to something that does not exist and never will."""


TRANSIENT = (
    OperationalError,
    ConnectionError,
    TimeoutError,
    asyncio.TimeoutError,
    KafkaConnectionError,
    KafkaTimeoutError,
)


def is_transient(error: BaseException) -> bool:
    """Whether trying again later may succeed: the database or broker is down or busy."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, TRANSIENT) or "database is locked" in str(error)
