"""The README's walk-through: every command it shows is in scripts/walkthrough, which runs against a real server."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.legato_server import LegatoServer, free_port

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "walkthrough"


def readme_commands() -> list[str]:
    """The command lines of the README's sh blocks between "Walk-through" and the next section (continuations
    joined, comments and the `# {...}` sample outputs dropped)."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Walk-through", 1)[1].split("\n## ", 1)[0]
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", section, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"\s+#\s.*$", "", line).strip()
            if line and not line.startswith("#"):
                commands.append(re.sub(r"\s+", " ", line))
    return commands


def script_lines() -> str:
    text = SCRIPT.read_text().replace('"${LEGATO[@]}"', "legato").replace("\\\n", " ")
    return "\n".join(re.sub(r"\s+", " ", line.strip()) for line in text.splitlines())


def test_every_readme_walkthrough_command_is_in_the_script() -> None:
    commands = readme_commands()
    assert len(commands) >= 15
    script = script_lines()
    settings = re.compile(r"^(\w+=\S+ ?)+$")  # the README's own values for what the script takes from its env
    missing = [c for c in commands if c not in script and not settings.match(c)]
    assert not missing, f"README commands not run by scripts/walkthrough: {missing}"


def test_the_walkthrough_runs_against_a_real_server(make_server) -> None:
    server: LegatoServer = make_server(time_scale=20.0).start()
    env = server._env()
    env.update({"LEGATO_URL": server.url, "EVENTS_PORT": str(free_port()), "LEGATO": f"{sys.executable} -m legato"})
    result = subprocess.run([str(SCRIPT)], cwd=server.workdir, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "walk-through done" in result.stdout
    assert "imported 4 rates" in result.stdout
    verified = int(re.search(r"verified events: (\d+)", result.stdout).group(1))
    assert verified >= 8  # connecting..terminated of the outbound leg, the inbound leg's, the CLI leg's
