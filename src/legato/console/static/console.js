// Legato console: hand-written, no build step, no third-party code.
// Auth is a signed HttpOnly cookie set by POST /console/session; the key and token are never stored.
"use strict";

const $ = (id) => document.getElementById(id);
const HEADERS = { "Content-Type": "application/json", "X-Legato-Console": "1" };
let source = null;
let openLeg = null;
let viewing = null;  // the operator: the account being watched (sent as ?account_sid=)

// The operator's requests name the account it watches; an account's own session needs nothing.
const scoped = (path) => viewing ? `${path}?account_sid=${encodeURIComponent(viewing)}` : path;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
  for (const child of children) node.append(child === null || child === undefined ? "" : child);
  return node;
}

async function call(method, path, body) {
  const response = await fetch(path, { method, headers: HEADERS, credentials: "same-origin",
                                       body: body === undefined ? undefined : JSON.stringify(body) });
  const envelope = await response.json().catch(() => ({}));
  const error = envelope.response && envelope.response.error_data;
  if (!response.ok) {
    throw Object.assign(new Error(error ? error.message : `HTTP ${response.status}`), { status: response.status });
  }
  return envelope.response.data;
}

function signedIn(who) {
  $("sign-in-panel").hidden = true;
  $("console").hidden = false;
  $("sign-out").hidden = false;
  if (who.kind === "operator") return operatorSignedIn(who);
  $("who").textContent = `${who.name || who.account_sid} · ${who.account_sid} · ${who.network}`;
  $("test-call-panel").hidden = who.network !== "sandbox";
  $("exophones").replaceChildren(...who.exophones.map((n) => el("option", { value: n }, n)));
  listen();
}

function operatorSignedIn(who) {
  $("who").textContent = `operator · ${who.network}`;
  $("accounts-panel").hidden = false;
  $("accounts").tBodies[0].replaceChildren(...who.accounts.map((a) => {
    const row = el("tr", { "data-account": a.account_sid }, el("td", { class: "sid" }, a.account_sid),
      el("td", {}, a.name), el("td", {}, a.disabled ? "disabled" : ""), el("td", {}, a.cps ?? "no limit"),
      el("td", {}, a.max_concurrent ?? "no limit"), el("td", {}, a.exophones.join(" ")), el("td", {}, a.created_at));
    row.addEventListener("click", () => watch(who, a));
    return row;
  }));
}

function watch(who, account) {
  viewing = account.account_sid;
  openLeg = null;
  $("timeline-panel").hidden = true;
  $("who").textContent = `operator · watching ${account.name || account.account_sid} · ${account.account_sid} · ${who.network}`;
  $("test-call-panel").hidden = who.network !== "sandbox";
  $("exophones").replaceChildren(...account.exophones.map((n) => el("option", { value: n }, n)));
  listen();
}

function signedOut(message) {
  if (source) source.close();
  source = null;
  viewing = null;
  $("accounts-panel").hidden = true;
  $("console").hidden = true;
  $("sign-out").hidden = true;
  $("who").textContent = "";
  $("sign-in-panel").hidden = false;
  if (message !== undefined) $("sign-in-error").textContent = message;
}

function listen() {
  if (source) source.close();
  source = new EventSource(scoped("/console/stream"));
  source.addEventListener("snapshot", (event) => render(JSON.parse(event.data)));
  source.onopen = () => { $("stream-state").textContent = "live"; };
  source.onerror = async () => {
    if (source.readyState !== EventSource.CLOSED) return;  // the server ended a stream: EventSource reconnects
    $("stream-state").textContent = "reconnecting…";  // refused (signed out?) or the server is down
    try {
      await call("GET", "/console/session");
      setTimeout(listen, 1000);
    } catch (e) {
      if (e.status === 401 || e.status === 403) signedOut(e.message); else setTimeout(listen, 2000);
    }
  };
}

function render(snapshot) {
  const a = snapshot.account;
  const figures = [["Live legs", a.live_legs], ["Queue depth", a.queue_depth], ["Admitted", a.admitted_legs],
    ["CPS", a.cps ?? "no limit"], ["Max concurrent", a.max_concurrent ?? "no limit"],
    ["Queue max length", a.limits.queue_max_length], ["Queue max wait (s)", a.limits.queue_max_wait]];
  $("account-figures").replaceChildren(...figures.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, String(v))]));
  $("legs").tBodies[0].replaceChildren(...snapshot.legs.map(legRow));
  $("bridges").tBodies[0].replaceChildren(...snapshot.bridges.map((b) => el("tr", {},
    el("td", { class: "sid" }, b.bridge_sid), el("td", {}, b.state), el("td", { class: "sid" }, b.leg_sids.join(" ")),
    el("td", {}, b.end_reason), el("td", {}, b.date_created))));
  if (openLeg && snapshot.legs.some((l) => l.leg_sid === openLeg)) showTimeline(openLeg);
}

function legRow(leg) {
  const row = el("tr", { "data-leg": leg.leg_sid, "data-state": leg.state },
    el("td", { class: "sid" }, leg.leg_sid), el("td", {}, leg.direction), el("td", {}, leg.contact_uri),
    el("td", {}, el("span", { class: `state state-${leg.state}` }, leg.state)), el("td", {}, leg.terminal_status),
    el("td", {}, leg.sip_response_code ? `${leg.sip_response_code} ${leg.sip_reason || ""}` : ""),
    el("td", {}, leg.hangup_cause ? `${leg.hangup_cause_code ?? ""} ${leg.hangup_cause}` : ""),
    el("td", {}, leg.answered_by), el("td", {}, leg.date_created));
  row.addEventListener("click", () => showTimeline(leg.leg_sid));
  return row;
}

const LEG_FIELDS = ["state", "terminal_status", "direction", "contact_uri", "exophone", "sip_response_code",
  "sip_reason", "hangup_cause_code", "hangup_cause", "hangup_source", "answered_by", "start_time", "answer_time",
  "end_time", "duration_ms"];

async function showTimeline(legSid) {
  openLeg = legSid;
  let data;
  try { data = await call("GET", scoped(`/console/legs/${encodeURIComponent(legSid)}`)); } catch (e) { return; }
  if (openLeg !== legSid) return;
  $("timeline-panel").hidden = false;
  $("timeline-sid").textContent = legSid;
  const leg = data.leg;
  const pairs = LEG_FIELDS.filter((k) => leg[k] !== null && leg[k] !== undefined).map((k) => [k, leg[k]]);
  for (const k of ["amd", "rtcp"]) if (leg[k]) pairs.push([k, JSON.stringify(leg[k])]);
  $("timeline-leg").replaceChildren(...pairs.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, String(v))]));
  $("timeline-hangup").hidden = leg.state === "terminal";
  const recording = leg.recording_url ? el("audio", { controls: "",
    src: scoped(`/console/recordings/${encodeURIComponent(leg.recording_url.split("/").pop())}`) }) : "";
  $("timeline-recording").replaceChildren(recording);
  $("timeline-events").replaceChildren(...data.events.map(eventItem));
}

const EVENT_FIELDS = ["state", "terminal_status", "sip_response_code", "sip_reason", "hangup_cause_code",
  "hangup_cause", "hangup_source", "answered_by", "amd", "recording_url", "digits", "bridge_sid"];

function eventItem(event) {
  const p = event.payload || {};
  const d = (p.event_data && p.event_data.data) || p.data || p;
  const shown = EVENT_FIELDS.filter((k) => d[k] !== null && d[k] !== undefined);
  const detail = shown.map((k) => `${k}=${typeof d[k] === "object" ? JSON.stringify(d[k]) : d[k]}`).join(" ");
  const attempts = event.attempts.length === 0 ? "" : el("table", { class: "attempts" },
    el("tr", {}, el("th", {}, "#"), el("th", {}, "at"), el("th", {}, "outcome"), el("th", {}, "status"),
      el("th", {}, "latency ms"), el("th", {}, "error")),
    ...event.attempts.map((t) => el("tr", { class: "attempt" }, el("td", {}, String(t.attempt)),
      el("td", {}, t.attempted_at), el("td", { class: t.outcome === "delivered" ? "ok" : "failed" }, t.outcome),
      el("td", {}, t.status_code ?? ""), el("td", {}, t.latency_ms ?? ""), el("td", {}, t.error ?? ""))));
  return el("li", { class: "event", "data-event": event.event_name },
    el("strong", {}, `${event.sequence}. ${event.event_name}`), " ", el("code", {}, detail),
    el("span", { class: "muted" }, ` — delivery ${event.delivery.status}, ${event.delivery.attempts} attempt(s)`),
    attempts);
}

document.addEventListener("DOMContentLoaded", async () => {
  $("sign-in").addEventListener("submit", async (e) => {
    e.preventDefault();
    const form = new FormData(e.target);
    try {
      signedIn(await call("POST", "/console/session", { api_key: form.get("api_key"), api_token: form.get("api_token") }));
      e.target.reset();
    } catch (err) { $("sign-in-error").textContent = err.message; }
  });
  $("operator-sign-in").addEventListener("submit", async (e) => {
    e.preventDefault();
    const form = new FormData(e.target);
    try {
      signedIn(await call("POST", "/console/operator-session", { admin_token: form.get("admin_token") }));
      e.target.reset();
    } catch (err) { $("operator-sign-in-error").textContent = err.message; }
  });
  $("sign-out").addEventListener("click", async () => { await call("DELETE", "/console/session"); signedOut(""); });
  $("timeline-hangup").addEventListener("click", async () => {
    if (openLeg) await call("POST", scoped(`/console/legs/${encodeURIComponent(openLeg)}/actions`), { action: "hangup" });
  });
  $("timeline-close").addEventListener("click", () => { openLeg = null; $("timeline-panel").hidden = true; });
  $("test-call").addEventListener("submit", async (e) => {
    e.preventDefault();
    const form = new FormData(e.target);
    $("test-call-error").textContent = "";
    try {
      // No exophone to pick (the account has none): left out, so the API says it is required, not "not a string".
      const leg = await call("POST", scoped("/console/legs"), { contact_uri: form.get("contact_uri"),
        exophone: form.get("exophone") ?? undefined, leg_event_endpoint: form.get("leg_event_endpoint"),
        amd_enable: form.get("amd_enable") === "on" });
      showTimeline(leg.leg_sid);
    } catch (err) { $("test-call-error").textContent = err.message; }
  });
  try { signedIn(await call("GET", "/console/session")); } catch (e) { signedOut(); }
});
