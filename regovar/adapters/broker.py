"""Message broker chosen by URL: the PostgreSQL queue by default, Redis or RabbitMQ by URL."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.message import Message
from dramatiq.middleware import AsyncIO

from regovar.db import application_name

QUEUES = ("imports", "default")


def libpq_url(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+asyncpg://", "postgresql://", 1)


def make_broker(
    broker_url: str | None, database_url: str, *, heartbeat_ttl: float = 60.0
) -> dramatiq.Broker:
    """Builds the broker and makes it dramatiq's global one (actors bind to it)."""
    url = broker_url or libpq_url(database_url)
    broker: dramatiq.Broker
    if url.startswith(("postgresql://", "postgres://")):
        from dramatiq_postgres import PostgresBroker

        # A worker that stops heartbeating (killed, machine lost) gets its messages requeued.
        broker = PostgresBroker(
            url=_named(url),
            results=False,
            heartbeat_ttl=heartbeat_ttl,
            heartbeat_interval=max(heartbeat_ttl / 4, 0.5),
            maintenance_interval=max(heartbeat_ttl / 2, 1.0),
        )
    elif url.startswith(("redis://", "rediss://")):
        from dramatiq.brokers.redis import RedisBroker

        broker = RedisBroker(url=url)
    elif url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        broker = RabbitmqBroker(url=url)
    elif url.startswith("stub://"):
        broker = StubBroker()
    else:
        raise ValueError(f"unsupported broker URL scheme: {url.split('://', 1)[0]}")
    if not any(isinstance(m, AsyncIO) for m in broker.middleware):
        broker.add_middleware(AsyncIO())
    for queue in QUEUES:
        broker.declare_queue(queue)
    dramatiq.set_broker(broker)
    return broker


def _named(url: str) -> str:
    """The queue's connections carry this process's pid, like its others: the command that
    started the private PostgreSQL tells them from another process's (the demo's own worker
    once kept it running after Ctrl-C, as "another client")."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.setdefault("application_name", application_name("dramatiq-postgres"))
    return urlunsplit(parts._replace(query=urlencode(query)))


class JobQueue:
    """Sends messages by actor name, so that the domain never needs the actor objects."""

    def __init__(self, broker: dramatiq.Broker) -> None:
        self.broker = broker

    def send(self, actor_name: str, queue: str, *args: Any) -> None:
        self.broker.enqueue(
            Message(queue_name=queue, actor_name=actor_name, args=args, kwargs={}, options={})
        )

    def run_import(self, import_id: int) -> None:
        self.send("run_import", "imports", import_id)

    def run_batch(self, job_id: int) -> None:
        self.send("run_batch", "default", job_id)
