"""The console at /console in headless Chromium (Debian's, driven by Playwright) against a real server:
sign in, place a test call, watch the leg go terminal without a reload, read its timeline."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.events.receivers import HttpReceiver
from tests.legato_server import Account, Api, LegatoServer

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "console"


@pytest.fixture
def server(make_server: object) -> LegatoServer:
    return make_server("sqlite").start()  # type: ignore[operator]


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver()
    yield receiver
    receiver.close()


def test_console_requires_a_signed_session(server: LegatoServer) -> None:
    account = server.create_account()
    with httpx.Client(base_url=server.url, timeout=10) as http:
        refused = http.get("/console/stream")
        assert refused.status_code == 401
        assert "www-authenticate" not in refused.headers  # a browser would pop up its own dialog instead
        assert http.get("/console/legs/nope").status_code == 401
        forged = {"legato_console": "eyJrIjoiYWNjb3VudCIsImEiOiJ4IiwiZSI6OTk5OTk5OTk5OX0.AAAA"}
        assert http.get("/console/session", cookies=forged).status_code == 401
        body = {"api_key": account.api_key, "api_token": account.api_token}
        assert http.post("/console/session", json=body).status_code == 401  # no console header: not from the page
        wrong = http.post("/console/session", json={**body, "api_token": "wrong"},
                          headers={"X-Legato-Console": "1"})
        assert wrong.status_code == 401
        assert wrong.json()["response"]["error_data"]["message"] == "invalid api_key or api_token"
        good = http.post("/console/session", json=body, headers={"X-Legato-Console": "1"})
        assert good.status_code == 200
        cookie = good.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/console" in cookie
        assert account.api_token not in good.headers["set-cookie"]
        assert http.get("/console/session").json()["response"]["data"]["account_sid"] == account.account_sid
        with http.stream("GET", "/console/stream") as stream:  # it ends by itself (EventSource reconnects), so
            lines = list(stream.iter_lines())                  # a server shutting down never waits on a console
        assert stream.headers["content-type"].startswith("text/event-stream")
        first = json.loads(lines[lines.index("event: snapshot") + 1].removeprefix("data: "))
        assert first["account"]["account_sid"] == account.account_sid and first["account"]["queue_depth"] == 0
        assert first["legs"] == [] and first["bridges"] == []
        other = server.create_account(exophone="08030752401")
        leg_of_other = httpx.post(f"{server.url}/v2/accounts/{other.account_sid}/legs", auth=other.auth, json={
            "contact_uri": "+919876543210", "exophone": "08030752401",
            "leg_event_endpoint": "http://127.0.0.1:9/events"}).json()["response"]["data"]["leg_sid"]
        assert http.get(f"/console/legs/{leg_of_other}").status_code == 404  # another account's leg
        kept = http.cookies["legato_console"]  # a copy of the cookie, as someone who took it would hold
        assert http.delete("/console/session", headers={"X-Legato-Console": "1"}).status_code == 200
        assert http.get("/console/session").status_code == 401
    with httpx.Client(base_url=server.url, timeout=10, cookies={"legato_console": kept}) as copied:
        ended = copied.get("/console/session")  # signed out: refused until it would have expired
        assert ended.status_code == 401 and "signed out" in ended.json()["response"]["error_data"]["message"]
        assert copied.get(f"/console/legs/{leg_of_other}").status_code == 401
    with httpx.Client(base_url=server.url, timeout=10) as http:  # signed out, then in again at once: a new session
        for _ in range(2):
            assert http.post("/console/session", json=body, headers={"X-Legato-Console": "1"}).status_code == 200
            assert http.get("/console/session").status_code == 200
            assert http.delete("/console/session", headers={"X-Legato-Console": "1"}).status_code == 200


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (scripts/test installs it)")
def test_console_in_a_browser(server: LegatoServer, receiver: HttpReceiver) -> None:
    from playwright.sync_api import expect, sync_playwright

    account = server.create_account("--name", "Acme support")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(server.url + "/console")
            _sign_in(page, Account(account.account_sid, account.api_key, "not-the-token", ""))
            expect(page.locator("#sign-in-error")).to_have_text("invalid api_key or api_token")
            expect(page.locator("#console")).to_be_hidden()
            page.screenshot(path=SHOTS / "sign-in-error.png")

            _sign_in(page, account)
            expect(page.locator("#console")).to_be_visible()
            expect(page.locator("#stream-state")).to_have_text("live")
            page.evaluate("window.notReloaded = true")
            page.fill("#test-call [name=leg_event_endpoint]", receiver.url)
            page.check("#test-call [name=amd_enable]")
            page.click("#test-call button[type=submit]")

            row = page.locator("#legs tbody tr").first
            expect(row).to_be_visible()
            leg_sid = row.get_attribute("data-leg")
            assert leg_sid
            expect(page.locator(f'#legs tr[data-leg="{leg_sid}"]')).to_have_attribute(
                "data-state", "terminal", timeout=30_000)
            assert page.evaluate("window.notReloaded") is True  # the list moved on by itself

            receiver.wait_terminated(leg_sid)
            page.click(f'#legs tr[data-leg="{leg_sid}"]')
            expect(page.locator("#timeline-sid")).to_have_text(leg_sid)
            terminated = page.locator('#timeline-events li[data-event="leg_terminated"]')
            expect(terminated).to_contain_text("terminal_status=completed", timeout=20_000)
            expect(terminated).to_contain_text("hangup_cause=normal_clearing")
            expect(page.locator("#timeline-events li .attempt").first).to_contain_text("200")
            names = page.locator("#timeline-events li.event").evaluate_all("els => els.map(e => e.dataset.event)")
            assert names == ["leg_connecting", "leg_ringing", "leg_answered", "leg_terminated"], names
            expect(page.locator("#timeline-leg")).to_contain_text("HUMAN")  # the AMD verdict
            expect(page.locator("#account-figures")).to_contain_text("Queue depth")
            page.screenshot(path=SHOTS / "console.png", full_page=True)

            _bridge_and_record(page, server, account)
        finally:
            browser.close()


def test_the_page_may_not_be_framed_nor_load_anything_foreign(server: LegatoServer) -> None:
    """The browser tests run the page under this policy: what it allows is all the console needs."""
    headers = httpx.get(server.url + "/console", timeout=10).headers
    policy = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy and "'unsafe-inline'" not in policy
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (scripts/test installs it)")
def test_a_test_call_from_an_account_without_exophones_says_why(server: LegatoServer) -> None:
    """The exophone list is empty: the form's error names the missing field (it said "must be a valid string")."""
    from playwright.sync_api import expect, sync_playwright

    account = server.create_account(exophone=None)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page()
            refused: list[str] = []  # what the page's Content-Security-Policy blocked: nothing
            page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
            page.goto(server.url + "/console")
            _sign_in(page, account)
            expect(page.locator("#console")).to_be_visible()
            page.fill("#test-call [name=leg_event_endpoint]", "http://127.0.0.1:9/events")
            page.click("#test-call button[type=submit]")
            expect(page.locator("#test-call-error")).to_have_text("exophone is required")
            assert refused == []
        finally:
            browser.close()


def _sign_in(page: object, account: Account) -> None:
    page.fill("#sign-in [name=api_key]", account.api_key)  # type: ignore[attr-defined]
    page.fill("#sign-in [name=api_token]", account.api_token)  # type: ignore[attr-defined]
    page.click("#sign-in button[type=submit]")  # type: ignore[attr-defined]


def _bridge_and_record(page: Any, server: LegatoServer, account: Account) -> None:
    """Two legs bridged and one recorded through the API: the console shows the bridge, plays the
    recording, and hangs a leg up from its timeline."""
    from playwright.sync_api import expect

    api = Api(server, account)
    sids = [api.create_leg(number).json()["response"]["data"]["leg_sid"] for number in ("+919876543210",
                                                                                        "+919876543211")]
    assert all(api.wait_state(sid, "connected")["state"] == "connected" for sid in sids)
    bridge = api.http.post(api.base + "/bridges", json={"leg_sids": sids})
    assert bridge.status_code == 201, bridge.text
    bridge_sid = bridge.json()["response"]["data"]["bridge_sid"]
    expect(page.locator("#bridges tbody")).to_contain_text(bridge_sid)
    assert api.action(sids[0], action="start_recording").status_code == 202
    assert api.action(sids[0], action="stop_recording").status_code == 202
    page.click(f'#legs tr[data-leg="{sids[0]}"]')
    audio = page.locator("#timeline-recording audio")
    expect(audio).to_have_count(1, timeout=20_000)  # the open timeline follows the leg as it changes
    fetched = page.evaluate("src => fetch(src).then(r => [r.status, r.headers.get('content-type')])",
                            audio.get_attribute("src"))
    assert fetched[0] in (200, 206) and fetched[1] == "audio/wav", fetched  # 206: the player asked for a range
    page.screenshot(path=SHOTS / "bridge-and-recording.png", full_page=True)
    page.click("#timeline-hangup")
    expect(page.locator(f'#legs tr[data-leg="{sids[0]}"]')).to_have_attribute("data-state", "terminal")


def test_operator_signs_in_with_the_admin_token_and_watches_any_account(server: LegatoServer) -> None:
    """Over HTTP, then (when Debian's chromium is there) in the browser."""
    account = server.create_account("--name", "Acme support")
    api = Api(server, account)
    leg_sid = api.create_leg("+919876543210").json()["response"]["data"]["leg_sid"]
    console = {"X-Legato-Console": "1"}
    with httpx.Client(base_url=server.url, timeout=10, headers=console) as http:
        wrong = http.post("/console/operator-session", json={"admin_token": "adm_wrong"})
        assert wrong.status_code == 401 and "www-authenticate" not in wrong.headers
        signed = http.post("/console/operator-session", json={"admin_token": server.admin_token()})
        assert signed.status_code == 200, signed.text
        who = http.get("/console/session").json()["response"]["data"]
        assert who["kind"] == "operator" and account.account_sid in [a["account_sid"] for a in who["accounts"]]
        unnamed = http.get("/console/legs/" + leg_sid)
        assert unnamed.status_code == 400 and unnamed.json()["response"]["error_data"]["field"] == "account_sid"
        timeline = http.get(f"/console/legs/{leg_sid}", params={"account_sid": account.account_sid})
        assert timeline.json()["response"]["data"]["leg"]["leg_sid"] == leg_sid
        with http.stream("GET", "/console/stream", params={"account_sid": account.account_sid}) as stream:
            snapshot = next(json.loads(line[len("data: "):]) for line in stream.iter_lines()
                            if line.startswith("data: "))
        assert snapshot["account"]["account_sid"] == account.account_sid
        assert leg_sid in [leg["leg_sid"] for leg in snapshot["legs"]]
        assert http.get("/v2/accounts").status_code == 401  # the console cookie is not an admin token
    if CHROMIUM.exists():
        _operator_in_a_browser(server, account, leg_sid)
    with httpx.Client(base_url=server.url, timeout=10, headers=console) as http:
        http.post("/console/operator-session", json={"admin_token": server.admin_token()})
        hung_up = http.post(f"/console/legs/{leg_sid}/actions", params={"account_sid": account.account_sid},
                            json={"action": "hangup"})
        assert hung_up.status_code == 202, hung_up.text


def _operator_in_a_browser(server: LegatoServer, account: Account, leg_sid: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(server.url + "/console")
            page.fill("#operator-sign-in [name=admin_token]", server.admin_token())
            page.click("#operator-sign-in button[type=submit]")
            row = page.locator(f'#accounts tr[data-account="{account.account_sid}"]')
            expect(row).to_contain_text("Acme support")
            row.click()
            expect(page.locator("#stream-state")).to_have_text("live")
            expect(page.locator(f'#legs tr[data-leg="{leg_sid}"]')).to_be_visible()
            page.screenshot(path=SHOTS / "operator.png", full_page=True)
        finally:
            browser.close()
