"""Words for AMD: what a recorded greeting says in its first seconds, heard by the speech recogniser.

After `words_ms` of greeting the detector hands the greeting so far (from 200 ms before it began) to the
speech recogniser, decoded against a small language model of the phrases below only (no general
vocabulary: about 0.1 s of CPU per 1.5 s of audio, in the recogniser's worker process, never on the
media loop). A machine's phrase in the answer is MACHINE (reason WORDS) before the greeting ends; the
people's phrases are there so that a person's answer has phrases of its own to match. The greeting is
read once more after `words_late_ms`; a person's phrase (PERSON_PHRASES) and no machine's in the latest
reading gives the greeting `person_hold_ms` more before it is MACHINE on length alone. Anything else, a
late answer or none, leaves the verdict to the greeting judge. Measured in BENCHMARKS.md (issue 18).
"""

from __future__ import annotations

# the decoder's phrases: what greetings say, then what people say (so an answer has phrases of its own to match)
_GREETING_PHRASES = ("you have reached", "you've reached", "not available", "leave a message", "leave your name",
                     "after the tone", "after the beep", "mailbox", "voicemail", "sorry i missed",
                     "thank you for calling", "please leave", "can't come to the phone", "please record")
HUMAN_PHRASES = ("hello", "hi", "yes", "yeah", "speaking", "how can i help", "good morning", "good afternoon",
                 "who is this", "who is calling", "go ahead", "this is", "here")
PHRASES = _GREETING_PHRASES + HUMAN_PHRASES
# decoded but no evidence of a machine: in the readings of 1004 tune clips (the tune half and a corpus built under
# another seed) "please leave" came in 3 people's answers and 3 greetings, "mailbox" in 2 answers and no greeting
# (BENCHMARKS.md, issue 18, sixth round)
UNSURE_PHRASES = ("mailbox", "please leave")
MACHINE_PHRASES = tuple(phrase for phrase in _GREETING_PHRASES if phrase not in UNSURE_PHRASES)
LEAD_MS = 200  # audio kept before the greeting's first word (its onset)
MAX_PENDING = 4  # word look-ups in flight per media process; more are not asked (the judge decides alone)


# a person's phrases that hold off MACHINE on length alone: what people say answering a call and machine
# greetings seldom do (not "hello", "hi", "this is": greetings open with them too)
PERSON_PHRASES = ("speaking", "how can i help", "good morning", "good afternoon", "who is this", "who is calling",
                  "go ahead", "here")


def said(text: str, phrases: tuple[str, ...]) -> bool:
    """True when the recognised `text` holds one of `phrases`."""
    padded = f" {text.lower()} "
    return any(f" {phrase} " in padded for phrase in phrases)


def machine_said(text: str) -> bool:
    """True when the recognised `text` holds one of a machine's phrases."""
    return said(text, MACHINE_PHRASES)


def person_said(text: str) -> bool:
    """True when the recognised `text` holds one of a person's phrases and none of a machine's."""
    return said(text, PERSON_PHRASES) and not machine_said(text)
