"""The inbox, outbox and relay-lease tables every service database carries."""

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    text,
)

Id = BigInteger().with_variant(Integer, "sqlite")


def inbox_table(metadata: MetaData) -> Table:
    """Event ids already processed: the unique key is what makes a redelivery harmless."""
    return Table(
        "inbox",
        metadata,
        Column("event_id", String(36), primary_key=True),
        Column("message_type", String(80), nullable=False),
        Column("topic", String(200), nullable=False),
        Column("partition", Integer, nullable=False),
        Column("offset", BigInteger, nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False),
    )


def outbox_table(metadata: MetaData) -> Table:
    """Messages written with the state change that caused them, waiting for the relay."""
    return Table(
        "outbox",
        metadata,
        Column("id", Id, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("topic", String(200), nullable=False),
        Column("key", String(64), nullable=False),
        Column("message_type", String(80), nullable=False),
        Column("value", LargeBinary, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("published_at", DateTime(timezone=True), nullable=True),
        Index(
            "ix_outbox_unpublished",
            "id",
            sqlite_where=text("published_at IS NULL"),
            postgresql_where=text("published_at IS NULL"),
        ),
    )


class MessagingTables:
    """The messaging core's tables inside one service's metadata."""

    def __init__(self, metadata: MetaData) -> None:
        self.inbox = inbox_table(metadata)
        self.outbox = outbox_table(metadata)
