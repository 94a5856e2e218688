"""Speech engines by name: one module per engine, one entry here. `speech_engine` in config picks one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from legato.speech.base import Recogniser


@dataclass(frozen=True, slots=True)
class EngineKind:
    name: str
    factory: Callable[[], Recogniser]
    languages: Callable[[str], bool]  # which BCP 47 tags it recognises


def _pocketsphinx() -> Recogniser:
    from legato.speech.sphinx import PocketsphinxRecogniser

    return PocketsphinxRecogniser()


def _english(language: str) -> bool:
    return language.lower() == "en" or language.lower().startswith("en-")


ENGINES: dict[str, EngineKind] = {kind.name: kind for kind in (EngineKind("pocketsphinx", _pocketsphinx, _english),)}
DEFAULT_ENGINE = "pocketsphinx"


def make_recogniser(name: str = DEFAULT_ENGINE) -> Recogniser:
    """A new recogniser of the named engine; ValueError naming the choices for an unknown one."""
    kind = ENGINES.get(name)
    if kind is None:
        raise ValueError(f"unknown speech engine {name!r} (one of {', '.join(sorted(ENGINES))})")
    return kind.factory()


def check_language(language: str, engine: str = DEFAULT_ENGINE) -> bool:
    """True when the engine recognises `language`."""
    kind = ENGINES.get(engine)
    return kind is not None and kind.languages(language)
