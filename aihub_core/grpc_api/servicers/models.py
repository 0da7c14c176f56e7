"""ModelService: the catalog and the configured services."""

from __future__ import annotations

from collections.abc import Mapping

from aihub.v1 import model_service_pb2 as pb
from aihub.v1 import model_service_pb2_grpc as pb_grpc
from aihub_core.catalog import Catalog
from aihub_core.grpc_api import convert
from aihub_core.grpc_api.access import api_key_or_jwt
from aihub_core.grpc_api.gate import Call, Gate
from aihub_core.grpc_api.rpc import unary
from aihub_core.paging import page


class ModelServicer(pb_grpc.ModelServiceServicer):
    def __init__(self, gate: Gate, catalog: Catalog, simulated: Mapping[str, bool]) -> None:
        self.gate = gate
        self._catalog = catalog
        self._simulated = dict(simulated)

    @unary(api_key_or_jwt("models"))
    async def ListModels(self, request: pb.ListModelsRequest, call: Call) -> pb.ListModelsResponse:
        matches = self._catalog.models(request.service.strip(), request.category.strip())
        items, next_token = page(matches, request.page_size, request.page_token)
        return pb.ListModelsResponse(
            service=request.service.strip(),
            models=[convert.model(m, self._catalog.aliases_of(m)) for m in items],
            total_count=len(matches),
            next_page_token=next_token,
        )

    @unary(api_key_or_jwt("models"))
    async def ListServices(self, request: pb.ListServicesRequest, call: Call) -> pb.ListServicesResponse:
        services = self._catalog.services
        return pb.ListServicesResponse(
            services=[s.name for s in services],
            default=self._catalog.default_service.name,
            capabilities={s.name: pb.ServiceCapabilities(**s.capabilities) for s in services},
            simulated={s.name: self._simulated.get(s.name, False) for s in services},
        )
