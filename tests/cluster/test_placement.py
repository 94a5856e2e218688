"""Where a new leg goes in a cluster (pure): its account's home node when the account has limits, else a
node serving the requested data centre, by load, preferring the node asked."""

from __future__ import annotations

from legato.cluster.placement import NodeView, choose, home_node

DCS = {"101": ["nso-a"], "102": ["nso-b"]}


def nodes(*loads: int) -> list[NodeView]:
    return [NodeView(f"n{i + 1}", DCS if i < 2 else {"103": ["nso-c"]}, load) for i, load in enumerate(loads)]


def test_a_limited_account_always_goes_to_one_home_whichever_node_is_asked() -> None:
    cluster = nodes(0, 0, 0)
    homes = {choose({}, "AC1", True, me, cluster) for me in cluster}
    assert len(homes) == 1
    spread = {home_node(f"AC{i}", cluster).name for i in range(60)}
    assert spread == {"n1", "n2", "n3"}  # accounts spread over the nodes


def test_a_home_moves_only_for_the_accounts_of_a_node_that_left() -> None:
    cluster = nodes(0, 0, 0)
    before = {f"AC{i}": home_node(f"AC{i}", cluster).name for i in range(60)}
    after = {sid: home_node(sid, cluster[:2]).name for sid in before}
    assert all(after[sid] == home for sid, home in before.items() if home != "n3")


def test_load_and_data_centre() -> None:
    n1, n2, n3 = nodes(5, 0, 0)
    assert choose({}, "AC1", False, n2, [n1, n2, n3]) is None  # the node asked is among the least loaded
    assert choose({}, "AC1", False, n1, [n1, n2, n3]) in ("n2", "n3")  # busier by more than the margin
    assert choose({"requested_dc_code": "103"}, "AC1", False, n1, [n1, n2, n3]) == "n3"
    assert choose({"requested_nso_code": "nso-b"}, "AC1", False, n3, [n1, n2, n3]) == "n2"
    assert choose({"requested_dc_code": "999"}, "AC1", False, n1, [n1, n2, n3]) is None  # n1 answers the 400
