"""Real SIP peers for tests and benchmarks: Kamailio (carrier), baresip (phone), SIPp (edge cases).

Every peer binds 127.0.0.1 on a free port, keeps its config in a given directory, runs in its own
process group, and is stopped by PID (`Peer.stop`), which also checks the whole group is gone.
Reusable from end-to-end tests: `start_kamailio`, `start_baresip`, `start_sipp`, `free_port`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.waiting import wait_for

HOST = "127.0.0.1"
_handed_out: set[int] = set()


def free_port(count: int = 1) -> int:
    """A UDP+TCP port free on 127.0.0.1 (with `count` consecutive ports free), not handed out before."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind((HOST, 0))
            base = probe.getsockname()[1]
        ports = range(base, base + count)
        if any(p in _handed_out or p > 65000 for p in ports) or not all(_is_free(p) for p in ports):
            continue
        _handed_out.update(ports)
        return base
    raise RuntimeError("no free port found")


def _is_free(port: int) -> bool:
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as sock:
            try:
                sock.bind((HOST, port))
            except OSError:
                return False
    return True


def udp_bound(port: int) -> bool:
    """True when some process has a UDP socket bound on `port` (read from /proc/net/udp)."""
    hexport = f":{port:04X}"
    with open("/proc/net/udp") as table:
        return any(line.split()[1].endswith(hexport) for line in table.readlines()[1:])


def tcp_listening(port: int) -> bool:
    """True when a TCP socket listens on 127.0.0.1:`port`."""
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((HOST, port)) == 0


@dataclass
class Peer:
    """A running peer process (leader of its own process group)."""

    name: str
    process: subprocess.Popen[bytes]
    workdir: Path
    port: int
    extra: dict[str, int] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        """True while the leader runs."""
        return self.process.poll() is None

    def group_gone(self) -> bool:
        """True when no process of the peer's group remains."""
        try:
            os.killpg(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    def stop(self, timeout: float = 3.0) -> int | None:
        """SIGTERM the group by PID (SIGKILL after `timeout`), wait until it is gone; the exit code."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.pid, signal.SIGKILL)
                self.process.wait(timeout)
        wait_for(self._killed, seconds=timeout, what=None, every=0.02)
        return self.process.returncode

    def _killed(self) -> bool:
        """True once the group is gone; else SIGKILL whatever of it is left (a child may outlive its leader)."""
        if self.group_gone():
            return True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        return False

    def wait(self, timeout: float) -> int:
        """Wait for the peer to exit by itself (SIPp with -m); returns the exit code."""
        return self.process.wait(timeout)

    def log(self) -> str:
        """The peer's stdout/stderr so far."""
        path = self.workdir / f"{self.name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _spawn(name: str, argv: list[str], workdir: Path, port: int, **extra: int) -> Peer:
    workdir.mkdir(parents=True, exist_ok=True)
    out = open(workdir / f"{name}.log", "wb")
    process = subprocess.Popen(argv, cwd=workdir, stdout=out, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, start_new_session=True)
    out.close()
    return Peer(name=name, process=process, workdir=workdir, port=port, extra=dict(extra))


def _ready(peer: Peer, check: object, timeout: float, what: str) -> Peer:
    try:
        wait_for(lambda: check() or not peer.alive(), seconds=timeout, what=what, every=0.02)  # type: ignore[operator]
        if not peer.alive():
            raise RuntimeError(f"{peer.name} exited at start:\n{peer.log()[-3000:]}")
    except BaseException:
        peer.stop()
        raise
    return peer


# ---- Kamailio: the carrier ---------------------------------------------------------------------
KAMAILIO_CFG = r"""#!KAMAILIO
debug=1
log_stderror=yes
memdbg=5
memlog=5
children={children}
listen=udp:127.0.0.1:{port}
disable_tcp=yes
auto_aliases=no
alias="127.0.0.1:{port}"

loadmodule "tm.so"
loadmodule "tmx.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "auth.so"

modparam("tm", "fr_timer", 5000)
modparam("tm", "fr_inv_timer", 30000)

request_route {{
    if (!mf_process_maxfwd_header("10")) {{ sl_send_reply("483", "Too Many Hops"); exit; }}
    if (has_totag()) {{
        if (loose_route()) {{ t_relay(); exit; }}
        if (is_method("ACK")) {{ if (t_check_trans()) {{ t_relay(); }} exit; }}
        sl_send_reply("404", "Not here");
        exit;
    }}
    if (is_method("CANCEL")) {{ if (t_check_trans()) {{ t_relay(); }} exit; }}
    if (is_method("ACK")) {{ exit; }}
    if (!is_method("INVITE")) {{ sl_send_reply("200", "OK"); exit; }}
    t_check_trans();

    # the sandbox's magic numbers, so that each has a real SIP twin (see network/sandbox.py)
    if ($rU =~ "0001$") {{ sl_send_reply("486", "Busy Here"); exit; }}
    if ($rU =~ "0002$") {{ t_newtran(); t_reply("180", "Ringing"); exit; }}
    if ($rU =~ "0003$") {{ sl_send_reply("404", "Not Found"); exit; }}
    if ($rU =~ "0006$") {{ t_newtran(); exit; }}
    if ($rU =~ "0007$") {{ $ru = "sip:uas@127.0.0.1:{hangup_port}"; record_route(); t_relay(); exit; }}
    if ($rU =~ "0008$") {{ sl_send_reply("503", "Service Unavailable"); exit; }}

    # rules by the last digits of the request user
    if ($rU =~ "486$") {{ sl_send_reply("486", "Busy Here"); exit; }}
    if ($rU =~ "404$") {{ sl_send_reply("404", "Not Found"); exit; }}
    if ($rU =~ "503$") {{
        append_to_reply("Reason: Q.850;cause=34;text=\"No circuit\"\r\n");
        sl_send_reply("503", "Service Unavailable"); exit;
    }}
    if ($rU =~ "180$") {{ t_newtran(); t_reply("180", "Ringing"); exit; }}
    if ($rU =~ "408$") {{
        t_set_fr(0, 800);
        $du = "sip:127.0.0.1:{blackhole_port}";
        t_relay();
        exit;
    }}
    if ($rU =~ "401$") {{
        if (!pv_proxy_authenticate("$td", "{password}", "0")) {{ proxy_challenge("$td", "0"); exit; }}
        consume_credentials();
        $ru = "sip:phone@127.0.0.1:{phone_port}";
        record_route();
        t_relay();
        exit;
    }}
    if ($rU =~ "183$") {{
        t_newtran();
        $var(sdp) = "v=0\r\no=carrier 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
            + "t=0 0\r\nm=audio {early_rtp} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
        set_reply_body("$var(sdp)", "application/sdp");
        t_reply("183", "Session Progress");
        $ru = "sip:phone@127.0.0.1:{phone_port}";
        record_route();
        t_relay();
        exit;
    }}
    if ($rU =~ "555$") {{ $ru = "sip:phone@127.0.0.1:{manual_port}"; record_route(); t_relay(); exit; }}
    # everything else: to the auto-answering phone, with Record-Route
    $ru = "sip:phone@127.0.0.1:{phone_port}";
    record_route();
    t_relay();
}}
"""


def start_kamailio(workdir: Path, *, phone_port: int, manual_port: int | None = None,
                   blackhole_port: int | None = None, password: str = "s3cret", children: int = 1,
                   port: int | None = None, hangup_port: int | None = None) -> Peer:
    """Kamailio as a carrier on 127.0.0.1: request-user suffix rules (see KAMAILIO_CFG)."""
    port = port or free_port()
    cfg = workdir / "kamailio.cfg"
    workdir.mkdir(parents=True, exist_ok=True)
    values = {"port": port, "phone_port": phone_port, "manual_port": manual_port or phone_port,
              "blackhole_port": blackhole_port or 9, "password": password, "children": children,
              "early_rtp": free_port(), "hangup_port": hangup_port or 9}
    cfg.write_text(KAMAILIO_CFG.format(**values))
    rundir = workdir / "run"
    rundir.mkdir(exist_ok=True)
    argv = [shutil.which("kamailio") or "/usr/sbin/kamailio", "-DD", "-E", "-f", str(cfg), "-Y", str(rundir),
            "-m", "32", "-M", "8", "-P", str(rundir / "kamailio.pid")]
    peer = _spawn("kamailio", argv, workdir, port)
    return _ready(peer, lambda: udp_bound(port), 10, "kamailio")


# ---- baresip: the phone ------------------------------------------------------------------------
BARESIP_CONFIG = """\
poll_method epoll
sip_listen {host}:{port}
sip_trans_def udp
net_interface {host}
dns_server 127.0.0.1:53
audio_player aubridge,nil
audio_source {audio_source}
ausrc_srate 48000
ausrc_channels 2
auplay_srate 48000
audio_alert aubridge,nil
audio_path /usr/share/baresip
rtp_ports {rtp_low}-{rtp_high}
module_path /usr/lib/baresip/modules
module g711.so
module ausine.so
module aubridge.so
module account.so
module menu.so
module ctrl_tcp.so
ctrl_tcp_listen {host}:{ctrl_port}
{more}"""


def start_baresip(workdir: Path, *, user: str = "phone", answermode: str = "auto",
                  port: int | None = None, audio_file: Path | None = None, tone_hz: int = 440,
                  dump_dir: Path | None = None) -> Peer:
    """baresip as a phone at sip:USER@127.0.0.1:PORT (answermode auto/manual); ctrl_tcp: extra['ctrl'].

    It says a `tone_hz` sine, or plays `audio_file` (a WAV: converted here to the 48 kHz stereo the
    aufile source needs). With `dump_dir`, the sndfile module writes what it hears (`*-dec.wav`)
    and what it sends (`*-enc.wav`) there."""
    port = port or free_port(count=2)  # baresip also takes PORT+1 (TLS)
    ctrl = free_port()
    rtp = free_port(count=20)
    workdir.mkdir(parents=True, exist_ok=True)
    source = f"ausine,{tone_hz}"
    more = ""
    if audio_file is not None:
        converted = workdir / "source.wav"
        subprocess.run(["sox", "-R", str(audio_file), "-r", "48000", "-c", "2", "-b", "16", "-e", "signed-integer",
                        str(converted)], check=True, capture_output=True, timeout=30)
        source = f"aufile,{converted}"
        more += "module aufile.so\n"
    if dump_dir is not None:
        dump_dir.mkdir(parents=True, exist_ok=True)
        more += f"module sndfile.so\nsnd_path {dump_dir}\n"
    (workdir / "config").write_text(BARESIP_CONFIG.format(host=HOST, port=port, ctrl_port=ctrl, rtp_low=rtp,
                                                          rtp_high=rtp + 19, audio_source=source, more=more))
    (workdir / "accounts").write_text(f"<sip:{user}@{HOST}:{port}>;answermode={answermode};regint=0;"
                                      "audio_codecs=pcmu,pcma\n")
    (workdir / "contacts").write_text("")
    argv = [shutil.which("baresip") or "/usr/bin/baresip", "-f", str(workdir)]
    peer = _spawn("baresip", argv, workdir, port, ctrl=ctrl)
    return _ready(peer, lambda: udp_bound(port) and tcp_listening(ctrl), 10, "baresip")


class BaresipControl:
    """A ctrl_tcp client (netstrings): send commands, read events."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection((HOST, port), timeout=5)
        self.buffer = b""
        self.events: list[dict[str, object]] = []
        self._tokens = 0

    def command(self, command: str, params: str = "") -> None:
        """Send one command (e.g. dial, hangup, accept)."""
        self._tokens += 1
        body = json.dumps({"command": command, "params": params, "token": f"t{self._tokens}"}).encode()
        self.sock.sendall(str(len(body)).encode() + b":" + body + b",")

    def wait_event(self, kind: str, timeout: float = 5.0) -> dict[str, object]:
        """Read until an event of `kind` (e.g. CALL_CLOSED) arrives; raise TimeoutError."""
        deadline = time.monotonic() + timeout
        while True:
            for index, event in enumerate(self.events):
                if event.get("type") == kind:
                    return self.events.pop(index)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {kind} from baresip; seen {self.events}")
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                raise ConnectionError("baresip closed ctrl_tcp")
            self.buffer += chunk
            self._parse()

    def _parse(self) -> None:
        while b":" in self.buffer:
            length_text, rest = self.buffer.split(b":", 1)
            length = int(length_text)
            if len(rest) < length + 1:
                return
            payload, self.buffer = rest[:length], rest[length + 1:]
            message = json.loads(payload)
            if message.get("event"):
                self.events.append(message)

    def close(self) -> None:
        """Close the control connection."""
        self.sock.close()


# ---- SIPp: scripted edge cases -----------------------------------------------------------------
SCENARIOS = Path(__file__).parent / "scenarios"


def start_sipp(workdir: Path, scenario: str | Path, *, port: int | None = None, remote: str | None = None,
               calls: int = 1, timeout: float = 15.0, extra: list[str] | None = None, host: str = HOST) -> Peer:
    """SIPp on HOST:PORT running a scenario (a name in scenarios/ or a built-in like 'uas'); any 127.x.y.z
    address works as `host` (all of 127.0.0.0/8 is loopback), e.g. to be a source Legato does not know."""
    port = port or free_port()
    argv = [shutil.which("sipp") or "/usr/bin/sipp"]
    if str(scenario) in ("uas", "uac"):
        argv += ["-sn", str(scenario)]
    else:
        path = Path(scenario) if Path(scenario).is_absolute() else SCENARIOS / f"{scenario}.xml"
        argv += ["-sf", str(path)]
    argv += ["-i", host, "-p", str(port), "-m", str(calls), "-nostdin", "-timeout", f"{int(timeout)}s",
             "-trace_err", "-mp", str(free_port(count=4))]
    argv += extra or []
    if remote:
        argv.append(remote)
    peer = _spawn("sipp", argv, workdir, port)
    return _ready(peer, lambda: udp_bound(port), 10, "sipp")
