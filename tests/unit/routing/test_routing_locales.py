"""Every routing code an agent or supervisor sees has a label in both locales (key ``routing.<kind>.<code>``)."""

import json
from pathlib import Path

import pytest

from routing.agent_state import MISSED_OFFERS
from routing.availability import AgentStatus
from routing.escalation import ActionKind
from routing.priority import PRIORITIES
from routing.reservations import ReservationStatus
from routing.sla import CLOCKS, ClockState
from routing.transfer import TransferTo

LOCALES = Path(__file__).resolve().parents[3] / "dashboards" / "locales"
KEYS = ([f"routing.agent_status.{s}" for s in AgentStatus] + [f"routing.break_reason.{MISSED_OFFERS}"]
        + [f"routing.reservation.{s}" for s in ReservationStatus] + [f"routing.priority.{p}" for p in PRIORITIES]
        + [f"routing.sla.{c}" for c in CLOCKS] + [f"routing.sla.{s}" for s in ClockState]
        + [f"routing.escalation.{a}" for a in ActionKind] + [f"routing.transfer.{t}" for t in TransferTo])


@pytest.mark.parametrize("language", ["uk", "en"])
def test_every_code_has_a_label(language):
    labels = json.loads((LOCALES / f"routing.{language}.json").read_text(encoding="utf-8"))
    assert sorted(set(KEYS) - set(labels)) == []
    assert sorted(set(labels) - set(KEYS)) == []
    assert all(labels[key].strip() for key in KEYS)
