"""Saved server profiles (`legato login`): a JSON file under the user's config folder, mode 0600."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

DEFAULT = "default"
FIELDS = ("url", "admin_token", "account_sid", "api_key", "api_token")


@dataclass
class Profile:
    """Where a server is and the credentials to use there (the operator's admin token, an account's, or both)."""

    url: str
    admin_token: str | None = None
    account_sid: str | None = None
    api_key: str | None = None
    api_token: str | None = None


class ProfileError(Exception):
    """A profile cannot be read or does not exist (the message says which and why)."""


def profiles_path() -> Path:
    """`$XDG_CONFIG_HOME/legato/profiles.json`, or `~/.config/legato/profiles.json`."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "legato" / "profiles.json"


def load_all() -> dict[str, Profile]:
    path = profiles_path()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {
            name: Profile(**{k: v for k, v in value.items() if k in FIELDS})
            for name, value in raw.get("profiles", {}).items()
        }
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        raise ProfileError(f"cannot read {path}: {exc}") from None


def load(name: str | None) -> Profile | None:
    """The named profile (ProfileError when it does not exist), or the default one when no name is given
    (None when there is none)."""
    profiles = load_all()
    if name is None:
        return profiles.get(DEFAULT)
    if name not in profiles:
        known = ", ".join(sorted(profiles)) or "none yet"
        raise ProfileError(
            f"no profile {name!r} in {profiles_path()} (profiles: {known}); "
            f"make it with `legato login URL --profile {name} ...`"
        )
    return profiles[name]


def save(name: str, profile: Profile) -> Path:
    """Write the profile (replacing one of that name); the file is readable by its owner only."""
    profiles = load_all()
    profiles[name] = profile
    path = profiles_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    body = json.dumps(
        {"profiles": {k: {f: v for f, v in asdict(p).items() if v is not None} for k, p in sorted(profiles.items())}},
        indent=2,
    )
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(body + "\n")
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)
    return path
