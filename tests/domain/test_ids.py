"""Ids sort by creation time and never repeat."""

from legato.domain.ids import new_event_sid, new_leg_sid


def test_ids_sort_by_creation_and_are_unique() -> None:
    sids = [new_leg_sid() for _ in range(2000)]
    assert sids == sorted(sids)
    assert len(set(sids)) == len(sids)
    assert all(len(s) == 32 for s in sids)
    assert new_event_sid() != new_event_sid()
