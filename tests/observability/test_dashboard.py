"""The Grafana dashboard only queries metrics that Legato exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from legato.observability.metrics import Metrics

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "legato.json"


def test_every_dashboard_query_names_an_exported_metric() -> None:
    exported = set()
    for family in text_string_to_metric_families(Metrics().exposition().decode()):
        exported |= {family.name, f"{family.name}_total", f"{family.name}_bucket", f"{family.name}_count",
                     f"{family.name}_sum"}
    dashboard = json.loads(DASHBOARD.read_text())
    queried = {name for panel in dashboard["panels"] for target in panel["targets"]
               for name in re.findall(r"\blegato_\w+", target["expr"])}
    assert queried and queried <= exported, queried - exported
