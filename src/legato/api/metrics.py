"""`GET /metrics`: the Prometheus text exposition of this server's metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from legato.observability.metrics import CONTENT_TYPE

router = APIRouter(tags=["health"])


@router.get("/metrics", operation_id="getMetrics", response_class=Response,
            summary="Prometheus metrics (text exposition format)",
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"},
                                                        "example": 'legato_legs{state="connected"} 3.0'}},
                             "description": "Every metric, with HELP and TYPE lines"}})
async def metrics(request: Request) -> Response:
    return Response(request.app.state.runtime.metrics.exposition(), media_type=CONTENT_TYPE)
