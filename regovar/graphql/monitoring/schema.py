"""The server's health for administrators (the public /health only says it answers)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from regovar.domain.monitoring import ServerStatus as DomainStatus


@strawberry.type
class HealthCheck:
    name: str
    state: str = strawberry.field(description="ok, critical or unknown")
    value: float | None
    unit: str
    threshold: str
    detail: str


@strawberry.type
class ServerStatus:
    state: str = strawberry.field(description="critical when a check is, else ok")
    at: datetime
    checks: list[HealthCheck]

    @classmethod
    def from_domain(cls, s: DomainStatus) -> ServerStatus:
        return cls(
            state=s.state,
            at=s.at,
            checks=[
                HealthCheck(name=c.name, state=c.state, value=c.value, unit=c.unit,
                            threshold=c.threshold, detail=c.detail)
                for c in s.checks
            ],
        )


@strawberry.type
class MonitoringQueries:
    @strawberry.field(description="Disk, database, queue, workers, failed imports, memory, load.")
    async def server_status(self, info: strawberry.Info) -> ServerStatus:
        ctx = info.context
        return ServerStatus.from_domain(await ctx.container.monitoring.status(ctx.principal))
