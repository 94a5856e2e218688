import pytest

from legato.media.ports import PortPool


def test_even_ports_reused_least_recently() -> None:
    pool = PortPool(20001, 20008)
    assert pool.size == 3  # 20002, 20004, 20006 (each with its RTCP port above)
    taken = [pool.take() for _ in range(3)]
    assert taken == [20002, 20004, 20006] and pool.take() is None
    pool.give_back(20004)
    pool.give_back(20004)
    assert pool.available == 1 and pool.take() == 20004


def test_bad_range() -> None:
    with pytest.raises(ValueError):
        PortPool(30000, 20000)
