"""Node rows: who holds which name, at which epoch, until when; what it serves; and taking a dead one over."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from legato.domain.leg import LegState
from legato.store.tables import bridges, cluster_identity, conferences, events, legs, nodes

LIVE_LEG = legs.c.state != LegState.TERMINAL.value
ACTIVE_BRIDGE = bridges.c.state == "active"
ACTIVE_CONFERENCE = conferences.c.state == "active"
# (event subject, its table, its key, "still live") of what a node holds
_HOLDERS = (("leg", legs, legs.c.leg_sid, LIVE_LEG), ("bridge", bridges, bridges.c.bridge_sid, ACTIVE_BRIDGE),
            ("conference", conferences, conferences.c.conference_sid, ACTIVE_CONFERENCE))


@dataclass
class Inheritance:
    """What a takeover moved to the survivor: the dead node's live legs, active bridges and conferences, and
    its undelivered events (per subject in sequence order)."""

    legs: list[dict[str, Any]] = field(default_factory=list)
    bridges: list[dict[str, Any]] = field(default_factory=list)
    conferences: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


def pending_of(owner: Any) -> Any:
    """Pending events of the legs, bridges and conferences node `owner` (a name, or a column) holds."""
    # correlate_except: with `owner` a column (nodes.name), each sub-select reads the enclosing query's node,
    # not every node (which would give any lapsed node the pending events of all of them)
    held = or_(*(and_(events.c.subject == subject,
                      events.c.subject_sid.in_(select(key).where(table.c.node == owner).correlate_except(table)))
                 for subject, table, key, _ in _HOLDERS))
    return select(events).where(events.c.status == "pending", held)


class NodeRepository:
    """The `nodes` table. Every change of a name's holder bumps its epoch, conditionally on the epoch seen."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def cluster_id(self) -> str:
        """The id every node on this database shares (made by the migrations, one per database)."""
        async with self._engine.connect() as conn:
            found = (await conn.execute(select(cluster_identity.c.cluster_id))).scalar_one_or_none()
        if found is None:
            raise RuntimeError("the database has no cluster identity: run `legato db upgrade`")
        return str(found)

    async def get(self, name: str) -> dict[str, Any] | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(nodes).where(nodes.c.name == name))).mappings().first()
        return dict(row) if row else None

    async def insert(self, name: str, epoch: int, expires: datetime, now: datetime, host: str | None,
                     pid: int | None, **values: Any) -> bool:
        """Create the name's row; False when another process created it first."""
        try:
            async with self._engine.begin() as conn:
                await conn.execute(insert(nodes).values(name=name, epoch=epoch, lease_expires_at=expires,
                                                        renewed_at=now, started_at=now, host=host, pid=pid,
                                                        **values))
        except IntegrityError:
            return False
        return True

    async def take(self, name: str, seen_epoch: int, **values: Any) -> bool:
        """Move the name to epoch `seen_epoch + 1` (with `values`) if nobody moved it since; True if we did."""
        query = (update(nodes).where(nodes.c.name == name, nodes.c.epoch == seen_epoch)
                 .values(epoch=seen_epoch + 1, **values))
        async with self._engine.begin() as conn:
            return (await conn.execute(query)).rowcount == 1

    async def renew(self, name: str, epoch: int, expires: datetime, now: datetime, **values: Any) -> bool:
        """Extend the lease (publishing `values`); False when the name is at another epoch (fenced)."""
        query = (update(nodes).where(nodes.c.name == name, nodes.c.epoch == epoch)
                 .values(lease_expires_at=expires, renewed_at=now, **values))
        async with self._engine.begin() as conn:
            return (await conn.execute(query)).rowcount == 1

    async def live(self, now: datetime) -> list[dict[str, Any]]:
        """Cluster nodes (answering on the bus) whose lease holds at `now`, by name."""
        query = (select(nodes).where(nodes.c.lease_expires_at > now, nodes.c.bus.is_(True))
                 .order_by(nodes.c.name))
        async with self._engine.connect() as conn:
            return [dict(r) for r in (await conn.execute(query)).mappings().all()]

    async def owner_of(self, kind: str, account_sid: str | None, sid: str) -> tuple[str | None, bool] | None:
        """(owner node, live) of a leg (`kind` "legs"), bridge ("bridges") or conference ("conferences"), of the
        account when given; None when unknown."""
        _, table, key, live = next(holder for holder in _HOLDERS if f"{holder[0]}s" == kind)
        query = select(table.c.node, live).where(key == sid)
        if account_sid is not None:
            query = query.where(table.c.account_sid == account_sid)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return (row[0], bool(row[1])) if row else None

    async def expired_with_work(self, now: datetime, me: str) -> list[tuple[str, int]]:
        """(name, epoch) of the other nodes whose lease expired and that still own a live leg, an active
        bridge or conference, or an undelivered event."""
        owns = or_(*(exists(select(key).where(table.c.node == nodes.c.name, live)) for _, table, key, live in _HOLDERS),
                   exists(pending_of(nodes.c.name).with_only_columns(events.c.event_sid)))
        query = select(nodes.c.name, nodes.c.epoch).where(nodes.c.lease_expires_at <= now, nodes.c.name != me, owns)
        async with self._engine.connect() as conn:
            return [(r[0], r[1]) for r in (await conn.execute(query.order_by(nodes.c.name))).all()]

    async def take_over(self, dead: str, seen_epoch: int, now: datetime, me: str,
                        my_epoch: int) -> Inheritance | None:
        """Take node `dead` over if its lease is still expired at `seen_epoch` (None when another node did, or it
        came back): one transaction bumps its epoch (fencing it), reads what it held and moves those rows to
        `me`, so exactly one survivor inherits them and a restart of `dead` finds nothing of them."""
        fence = (update(nodes).where(nodes.c.name == dead, nodes.c.epoch == seen_epoch,
                                     nodes.c.lease_expires_at <= now).values(epoch=seen_epoch + 1))
        async with self._engine.begin() as conn:
            if (await conn.execute(fence)).rowcount != 1:
                return None
            held = [[dict(r) for r in (await conn.execute(
                select(table).where(table.c.node == dead, live).order_by(key))).mappings().all()]
                for _, table, key, live in _HOLDERS]
            pending = pending_of(dead).order_by(events.c.subject, events.c.subject_sid, events.c.sequence)
            got = Inheritance(*held, [dict(r) for r in (await conn.execute(pending)).mappings().all()])
            mine = {"node": me, "node_epoch": my_epoch}
            for subject, table, key, live in _HOLDERS:
                with_events = {row["subject_sid"] for row in got.events if row["subject"] == subject}
                await conn.execute(update(table).where(table.c.node == dead, or_(live, key.in_(with_events)))
                                   .values(mine))
        return got

