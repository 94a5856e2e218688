"""FastAPI's own OpenTelemetry: on as FastAPI sets it when the process has OpenTelemetry set up, else off."""

from __future__ import annotations

import pytest
from opentelemetry import trace

from legato.api.server import fastapi_telemetry

OFF = {"tracing": False, "metrics": False, "logs": False}


def test_off_without_opentelemetry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FASTAPI_OTEL_AUTO_CONFIGURE", raising=False)
    assert fastapi_telemetry() == OFF


def test_as_fastapi_sets_it_with_a_provider_or_auto_configure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FASTAPI_OTEL_AUTO_CONFIGURE", raising=False)
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: trace.NoOpTracerProvider())  # a provider was set
    assert fastapi_telemetry() == {}
    monkeypatch.undo()
    monkeypatch.setenv("FASTAPI_OTEL_AUTO_CONFIGURE", "true")
    assert fastapi_telemetry() == {}
