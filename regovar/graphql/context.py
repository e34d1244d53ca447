"""Per-request context: the container's managers, the acting principal and fresh DataLoaders."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from strawberry.dataloader import DataLoader

from regovar.bootstrap import Container
from regovar.domain.principal import Principal


@dataclass
class Context:
    container: Container
    principal: Principal
    request: Any = None
    response: Any = None
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    loaders: dict[str, DataLoader[Any, Any]] = field(default_factory=dict)

    @property
    def client_address(self) -> str:
        client = getattr(self.request, "client", None)
        return str(client.host) if client is not None else ""

    def loader(self, name: str) -> DataLoader[Any, Any]:
        """DataLoaders live for one request and call the managers' batch reads."""
        if name not in self.loaders:
            self.loaders[name] = DataLoader(load_fn=self._batch(name))
        return self.loaders[name]

    def _batch(self, name: str) -> Any:
        c, p = self.container, self.principal
        readers: dict[str, Callable[[Principal, list[int]], Awaitable[dict[int, Any]]]] = {
            "project": c.projects.get_many,
            "import": c.imports.get_many,
            "interrupted": c.imports.interrupted,
            "file": c.imports.files_by_id,
            "sample": c.variants.samples_by_id,
        }
        read = readers[name]

        async def load(keys: list[int]) -> list[Any]:
            found = await read(p, list(keys))
            return [found.get(k) for k in keys]

        return load
