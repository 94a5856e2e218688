"""Console session cookies: only this server's signature for the account's current token is accepted."""

from __future__ import annotations

import time

from legato.console import session

KEY = b"k" * 32


def test_a_cookie_is_good_for_its_account_and_token_until_it_expires() -> None:
    value = session.issue(KEY, "AC1", "hash-1")
    claimed = session.peek(value)
    assert claimed is not None and (claimed.kind, claimed.account_sid) == ("account", "AC1")
    assert session.verify(KEY, value, "hash-1")
    assert not session.verify(KEY, value, "hash-2")  # the token was rotated
    assert not session.verify(b"x" * 32, value, "hash-1")  # another server's secret key
    assert session.peek(session.issue(KEY, "AC1", "hash-1", now=time.time() - session.LIFETIME - 1)) is None


def test_a_changed_or_malformed_cookie_is_refused() -> None:
    value = session.issue(KEY, "AC1", "hash-1")
    other = session.issue(KEY, "AC2", "hash-1")
    swapped = other.split(".")[0] + "." + value.split(".")[1]  # AC2's claim with AC1's signature
    assert not session.verify(KEY, swapped, "hash-1")
    for bad in ("", "garbage", "a.b.c", "!!!.sig", value.split(".")[0]):
        assert session.peek(bad) is None or not session.verify(KEY, bad, "hash-1")
