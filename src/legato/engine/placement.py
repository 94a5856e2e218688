"""Where a leg runs: the data centres (and their nso codes) this node serves, and their load."""

from __future__ import annotations

from collections import Counter

from legato.domain.errors import ValidationFailed
from legato.domain.leg import Leg


def parse_data_centre(spec: str) -> tuple[str, list[str]]:
    """`101=nso-a,nso-b` -> ("101", ["nso-a", "nso-b"]); `102` -> ("102", [])."""
    code, _, nsos = spec.partition("=")
    code = code.strip()
    if not code:
        raise ValueError(f"data centre {spec!r} has no code (write 101 or 101=nso-a,nso-b)")
    return code, [n.strip() for n in nsos.split(",") if n.strip()]


class Placement:
    """Chooses a leg's data centre and nso code, and counts live legs per data centre."""

    def __init__(self, data_centres: dict[str, list[str]]) -> None:
        if not data_centres:
            raise ValueError("at least one data centre is needed")
        self.data_centres = {dc: tuple(nsos) for dc, nsos in data_centres.items()}
        self._dc_of_nso = {nso: dc for dc, nsos in self.data_centres.items() for nso in nsos}
        self.live: Counter[str] = Counter()
        self.live_nso: Counter[tuple[str, str | None]] = Counter()

    def place(self, *, requested_dc: str | None = None, requested_nso: str | None = None,
              reference: Leg | None = None) -> tuple[str, str | None]:
        """(dc_code, nso_code) for a new leg; ValidationFailed for unknown or contradicting codes."""
        if requested_dc is not None and requested_dc not in self.data_centres:
            raise ValidationFailed(f"requested_dc_code {requested_dc} is not a data centre of this node "
                                   f"({', '.join(self.data_centres)})", field="requested_dc_code")
        if requested_nso is not None:
            nso_dc = self._dc_of_nso.get(requested_nso)
            if nso_dc is None:
                raise ValidationFailed(f"requested_nso_code {requested_nso} is not an nso code of this node",
                                       field="requested_nso_code")
            if requested_dc is not None and requested_dc != nso_dc:
                raise ValidationFailed(f"requested_nso_code {requested_nso} belongs to data centre {nso_dc}, "
                                       f"not {requested_dc}", field="requested_nso_code")
            requested_dc = nso_dc
        if reference is not None and reference.dc_code is not None:
            if requested_dc is not None and requested_dc != reference.dc_code:
                raise ValidationFailed(f"the reference leg is in data centre {reference.dc_code}; a leg created "
                                       f"with reference_leg_sid must be co-located with it",
                                       field="requested_dc_code")
            if requested_nso is None:
                return reference.dc_code, reference.nso_code
            return reference.dc_code, requested_nso
        dc = requested_dc if requested_dc is not None else self.least_loaded()
        return dc, requested_nso if requested_nso is not None else self._least_loaded_nso(dc)

    def least_loaded(self) -> str:
        """The data centre with the fewest live legs (the first configured on a tie)."""
        return min(self.data_centres, key=lambda dc: self.live[dc])

    def _least_loaded_nso(self, dc: str) -> str | None:
        nsos = self.data_centres.get(dc, ())
        return min(nsos, key=lambda nso: self.live_nso[(dc, nso)]) if nsos else None

    def occupy(self, leg: Leg) -> None:
        if leg.dc_code is not None:
            self.live[leg.dc_code] += 1
            self.live_nso[(leg.dc_code, leg.nso_code)] += 1

    def vacate(self, leg: Leg) -> None:
        if leg.dc_code is not None and self.live[leg.dc_code] > 0:
            self.live[leg.dc_code] -= 1
            self.live_nso[(leg.dc_code, leg.nso_code)] -= 1
