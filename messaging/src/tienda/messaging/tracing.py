"""OpenTelemetry spans that follow one business flow across the services.

Each handled message gets a consumer span whose parent is the span that produced the
message (the envelope's ``trace_parent``); a message from outside Tienda, with no
``trace_parent``, starts a trace whose id is its correlation id. Messages emitted by a
handler carry the handler's span as their ``trace_parent``. Spans are recorded and exported
over OTLP only when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set; without it the API's no-op tracer
still carries the incoming trace context to the messages emitted (same trace, no cost of
recording spans nobody collects).
"""

import contextvars
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import context, trace
from opentelemetry.trace import NonRecordingSpan, Span, SpanContext, SpanKind, TraceFlags
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from tienda.contracts.envelope import EnvelopeHeader
from tienda.messaging.records import Record

PROPAGATOR = TraceContextTextMapPropagator()
SPAN_ID_MASK = (1 << 64) - 1

log_context: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("tienda_log_context", default=None)


def configure_tracing(service: str) -> None:
    """Install an SDK tracer provider exporting over OTLP, when an endpoint is configured."""
    if not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # noqa: PLC0415
    from opentelemetry.sdk.resources import Resource  # noqa: PLC0415 - the SDK only where a worker runs
    from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415
    from opentelemetry.sdk.trace.export import BatchSpanProcessor  # noqa: PLC0415

    provider = TracerProvider(resource=Resource.create({"service.name": f"tienda-{service}"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)


def parent_of(envelope: EnvelopeHeader) -> context.Context:
    """The context a message's processing span descends from."""
    if envelope.trace_parent:
        return PROPAGATOR.extract({"traceparent": envelope.trace_parent})
    cause = envelope.causation_id or envelope.event_id
    span_context = SpanContext(
        trace_id=envelope.correlation_id.int,
        span_id=(cause.int & SPAN_ID_MASK) or 1,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )
    return trace.set_span_in_context(NonRecordingSpan(span_context))


@contextmanager
def processing(service: str, envelope: EnvelopeHeader, record: Record, messages: int = 1) -> Iterator[Span]:
    """The span of one message's handling (or of a run of ``messages`` handled together, named by
    its first), and its ids on every log line meanwhile."""
    attributes: dict[str, Any] = {
        "messaging.system": "kafka",
        "messaging.destination.name": record.topic,
        "messaging.kafka.destination.partition": record.partition,
        "messaging.kafka.message.offset": record.offset,
        "messaging.message.id": str(envelope.event_id),
        "tienda.account_id": envelope.account_id,
        "tienda.correlation_id": str(envelope.correlation_id),
    }
    if messages > 1:
        attributes["messaging.batch.message_count"] = messages
    tracer = trace.get_tracer("tienda.messaging")
    token = log_context.set(_ids_of(envelope) if messages == 1 else _ids_of_run(envelope, messages))
    try:
        with tracer.start_as_current_span(
            f"{service} process {envelope.type}",
            context=parent_of(envelope),
            kind=SpanKind.CONSUMER,
            attributes=attributes,
        ) as span:
            yield span
    finally:
        log_context.reset(token)


@contextmanager
def about(envelope: EnvelopeHeader) -> Iterator[None]:
    """Log lines written meanwhile carry this message's ids: for a handler of a run of messages
    that logs about one of them."""
    token = log_context.set(_ids_of(envelope))
    try:
        yield
    finally:
        log_context.reset(token)


def _ids_of(envelope: EnvelopeHeader) -> dict[str, str]:
    return {
        "event_id": str(envelope.event_id),
        "correlation_id": str(envelope.correlation_id),
        "account_id": envelope.account_id,
        "message_type": envelope.type,
    }


def _ids_of_run(first: EnvelopeHeader, messages: int) -> dict[str, str]:
    """A run's log lines name its first message and its size, never one message's ids as if
    the line were about that message only."""
    return {"run_first_event_id": str(first.event_id), "run_messages": str(messages), "message_type": first.type}


def current_trace_parent() -> str | None:
    """The W3C traceparent of the current span, for messages emitted now."""
    carrier: dict[str, str] = {}
    PROPAGATOR.inject(carrier)
    return carrier.get("traceparent")
