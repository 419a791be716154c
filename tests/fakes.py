"""Fakes for the edges: a publisher that keeps what it was given."""

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Sent:
    topic: str
    key: str | None
    value: bytes
    headers: dict[str, str]


@dataclass
class FakePublisher:
    """Records every message; ``fail_times`` sends fail first, like a broker that is away."""

    sent: list[Sent] = field(default_factory=list)
    fail_times: int = 0

    async def send(
        self, topic: str, key: str | None, value: bytes, headers: Mapping[str, str] | None = None
    ) -> "asyncio.Future[object]":
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        if self.fail_times > 0:
            self.fail_times -= 1
            future.set_exception(ConnectionError("broker away"))
        else:
            self.sent.append(Sent(topic, key, value, dict(headers or {})))
            future.set_result(None)
        return future

    def on(self, topic: str) -> list[Sent]:
        return [message for message in self.sent if message.topic == topic]
