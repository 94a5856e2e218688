"""Idempotency keys in the store: one claim per account and key, answers replayed, 24 h window."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from legato.app.idempotency import Answer, Bound, IdempotencyService
from legato.domain.clock import ManualClock
from legato.domain.errors import Conflict, ValidationFailed
from legato.store.database import create_engine, migrate
from legato.store.idempotency import IdempotencyRepository
from tests.conftest import DATABASES, database_url

Stores = Callable[[str], Awaitable[tuple[IdempotencyService, ManualClock]]]


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[Stores]:
    engines: list[AsyncEngine] = []

    async def make(database: str) -> tuple[IdempotencyService, ManualClock]:
        engine = create_engine(database_url(database, tmp_path))
        engines.append(engine)
        await migrate(engine)
        clock = ManualClock()
        return IdempotencyService(IdempotencyRepository(engine), clock), clock

    yield make
    for engine in engines:
        await engine.dispose()


@pytest.mark.parametrize("database", DATABASES)
async def test_claim_answer_replay_and_expiry(stores: Stores, database: str) -> None:
    service, clock = await stores(database)
    assert await service.claim("A", "k1", "req") is None
    with pytest.raises(Conflict) as running:
        await service.claim("A", "k1", "req")
    assert running.value.field == "Idempotency-Key"
    await service.answer("A", "k1", Answer(202, '{"x": 1}'))
    assert await service.claim("A", "k1", "req") == Answer(202, '{"x": 1}')
    with pytest.raises(Conflict) as other:
        await service.claim("A", "k1", "another request")
    assert "k1" in other.value.message
    assert await service.claim("B", "k1", "req") is None  # keys are per account
    clock.advance(24 * 3600 + 1)
    assert await service.claim("A", "k1", "another request") is None  # expired: a new request may use it


@pytest.mark.parametrize("database", DATABASES)
async def test_a_released_key_can_act_again(stores: Stores, database: str) -> None:
    service, _ = await stores(database)
    assert await service.claim("A", "k", "req") is None
    await service.release("A", "k")
    assert await service.claim("A", "k", "req") is None


@pytest.mark.parametrize("database", DATABASES)
async def test_concurrent_claims_let_exactly_one_act(stores: Stores, database: str) -> None:
    service, _ = await stores(database)
    results = await asyncio.gather(*(service.claim("A", "same", "req") for _ in range(20)), return_exceptions=True)
    assert sum(r is None for r in results) == 1
    assert all(isinstance(r, Conflict) for r in results if r is not None)


@pytest.mark.parametrize("key", ["", "a b", "x" * 256, "ключ", "a\x00"])
async def test_bad_keys_are_400_naming_the_header(stores: Stores, key: str) -> None:
    service, _ = await stores("sqlite")
    with pytest.raises(ValidationFailed) as caught:
        await service.claim("A", key, "req")
    assert caught.value.field == "Idempotency-Key"


@pytest.mark.parametrize("database", DATABASES)
async def test_a_first_request_cut_off_is_settled_after_a_minute(stores: Stores, database: str) -> None:
    service, clock = await stores(database)
    assert await service.claim("A", "k", "req") is None
    await service.repo.bind("A", "k", "LEG1")
    with pytest.raises(Conflict):  # still running, as far as anyone can tell
        await service.claim("A", "k", "req")
    clock.advance(61)
    bound = await service.claim("A", "k", "req")
    assert isinstance(bound, Bound) and bound.resource_sid == "LEG1"
    await service.take_over("A", "k", bound)  # LEG1 was never written: this retry acts
    with pytest.raises(Conflict):
        await service.take_over("A", "k", bound)  # a second retry racing it loses
    with pytest.raises(Conflict):
        await service.claim("A", "k", "req")  # the new holder is running


@pytest.mark.parametrize("database", DATABASES)
async def test_a_first_request_cut_off_before_binding_lets_the_retry_act(stores: Stores, database: str) -> None:
    service, clock = await stores(database)
    assert await service.claim("A", "k", "req") is None
    clock.advance(61)
    assert await service.claim("A", "k", "req") is None
    with pytest.raises(Conflict):
        await service.claim("A", "k", "req")
