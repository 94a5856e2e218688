"""TwiML documents to typed verbs: pure, no I/O. Parsed with defusedxml (no DTDs, no entities), size limited.

Each verb (and noun) is declared once in `VERBS` with the attributes Legato knows and the nouns it may
nest; anything else is a `FlowError` naming the verb or attribute, as Twilio reports an application error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

MAX_DOCUMENT = 64 * 1024  # bytes of a document (Twilio's limit for a TwiML response is 64 kB)


class FlowError(Exception):
    """The document cannot run: `kind` (document, verb, attribute, fetch, unsupported) and the offending name."""

    def __init__(self, kind: str, name: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.name = name
        self.message = message


@dataclass(frozen=True, slots=True)
class VerbSpec:
    """A verb or noun: the attributes it takes and the verbs/nouns it may contain (None: text only)."""

    attributes: frozenset[str] = frozenset()
    children: frozenset[str] | None = None
    markup: bool = False  # SSML inside (Say): its text is spoken, its tags are not applied


def _spec(attributes: str = "", children: str | None = None) -> VerbSpec:
    return VerbSpec(frozenset(attributes.split()), frozenset(children.split()) if children is not None else None)


_SPEECH = "speechTimeout hints language speechModel enhanced profanityFilter"
VERBS: dict[str, VerbSpec] = {
    "Say": VerbSpec(frozenset({"voice", "language", "loop"}), markup=True),
    "Play": _spec("loop digits"),
    "Pause": _spec("length"),
    "Gather": _spec(
        f"input numDigits timeout finishOnKey action method actionOnEmptyResult bargeIn {_SPEECH}", "Say Play Pause"
    ),
    "Record": _spec(
        "action method maxLength timeout finishOnKey playBeep trim transcribe transcribeCallback "
        "recordingStatusCallback recordingStatusCallbackMethod recordingStatusCallbackEvent"
    ),
    "Dial": _spec(
        "action method timeout callerId record timeLimit hangupOnStar answerOnBridge recordingStatusCallback "
        "recordingStatusCallbackMethod recordingStatusCallbackEvent",
        "Number Sip Conference",
    ),
    "Redirect": _spec("method"),
    "Hangup": _spec(),
    "Reject": _spec("reason"),
    "Connect": _spec("action method", "Stream"),
    "Start": _spec("action method", "Stream"),
    "Stop": _spec("", "Stream"),
}
NOUNS: dict[str, VerbSpec] = {
    "Number": _spec("sendDigits statusCallback statusCallbackEvent statusCallbackMethod"),
    "Sip": _spec("username password statusCallback statusCallbackEvent statusCallbackMethod"),
    "Conference": _spec(
        "startConferenceOnEnter endConferenceOnExit muted beep waitUrl waitMethod record maxParticipants coach trim "
        "statusCallback statusCallbackEvent statusCallbackMethod recordingStatusCallback recordingStatusCallbackMethod "
        "recordingStatusCallbackEvent participantLabel region jitterBufferSize"
    ),
    "Stream": _spec("url name track bidirectional statusCallback statusCallbackMethod", "Parameter"),
    "Parameter": _spec("name value"),
}


SSML = frozenset("break emphasis lang p phoneme prosody s say-as sub w effect".split())  # Say's markup


@dataclass(frozen=True, slots=True)
class Verb:
    """One element of a document: its name, attributes, text, and nested elements."""

    name: str
    attributes: dict[str, str] = field(default_factory=dict)
    text: str = ""
    children: tuple[Verb, ...] = ()

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.attributes.get(name, default)

    def integer(self, name: str, default: int, low: int = 0, high: int = 86_400) -> int:
        """An integer attribute within [low, high]; FlowError naming it otherwise."""
        raw = self.attributes.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw.strip())
        except ValueError:
            raise FlowError(
                "attribute", f"{self.name}.{name}", f"{self.name} {name}={raw!r} is not an integer"
            ) from None
        if not low <= value <= high:
            raise FlowError("attribute", f"{self.name}.{name}", f"{self.name} {name}={value} is outside {low}..{high}")
        return value

    def method(self, name: str = "method") -> str:
        """An HTTP method attribute: GET or POST in any case (Twilio's), POST when absent; FlowError otherwise."""
        raw = (self.attributes.get(name) or "").strip().upper() or "POST"
        if raw not in ("GET", "POST"):
            raise FlowError(
                "attribute", f"{self.name}.{name}", f"{self.name} {name}={self.attributes[name]!r}: GET or POST"
            )
        return raw

    def flag(self, name: str, default: bool = False) -> bool:
        raw = self.attributes.get(name)
        return default if raw is None else raw.strip().lower() in ("true", "1", "yes")


def parse(document: bytes | str) -> list[Verb]:
    """The verbs of a `<Response>` document, checked against `VERBS`; FlowError when it cannot run."""
    raw = document.encode() if isinstance(document, str) else document
    if len(raw) > MAX_DOCUMENT:
        raise FlowError("document", "Response", f"the document is over {MAX_DOCUMENT} bytes")
    try:
        root = ElementTree.fromstring(raw, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise FlowError("document", "Response", f"the document was refused ({type(exc).__name__})") from None
    except ElementTree.ParseError as exc:
        raise FlowError("document", "Response", f"the document is not well-formed XML ({exc})") from None
    if _local(root.tag) != "Response":
        raise FlowError("document", _local(root.tag), f"the root element is <{_local(root.tag)}>, not <Response>")
    return [_element(child, VERBS, "verb") for child in root]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _element(element: Element, table: dict[str, VerbSpec], kind: str) -> Verb:
    name = _local(element.tag)
    spec = table.get(name)
    if spec is None:
        raise FlowError(kind, name, f"<{name}> is not a {kind} Legato runs here")
    for attribute in element.attrib:
        if _local(attribute) not in spec.attributes:
            raise FlowError(
                "attribute", f"{name}.{_local(attribute)}", f"<{name}> has no attribute {_local(attribute)!r} in Legato"
            )
    if spec.markup:
        for inner in element.iter():
            if inner is not element and _local(inner.tag) not in SSML:
                raise FlowError(
                    "verb" if _local(inner.tag) in VERBS else "noun",
                    _local(inner.tag),
                    f"<{_local(inner.tag)}> cannot be inside <{name}>",
                )
        text = " ".join(" ".join(element.itertext()).split())
        return Verb(name, {_local(k): v for k, v in element.attrib.items()}, text)
    children: list[Verb] = []
    for child in element:
        child_name = _local(child.tag)
        if spec.children is None or child_name not in spec.children:
            raise FlowError(
                "verb" if child_name in VERBS else "noun", child_name, f"<{child_name}> cannot be inside <{name}>"
            )
        children.append(_element(child, VERBS if child_name in VERBS else NOUNS, "noun"))
    attributes = {_local(k): v for k, v in element.attrib.items()}
    return Verb(name, attributes, (element.text or "").strip(), tuple(children))
