"""The contact-centre simulator: what service level would this staffing and this workflow give?

``simulate(config, agents, arrival_rate, handle_time, calls, seed) -> Report`` drives the real routing
code in simulated time; ``main(argv)`` is the ``switchboard simulate`` command."""

from routing.simulation.cli import main
from routing.simulation.engine import SimulatedAgent, Simulation, simulate, universal_agents
from routing.simulation.report import Estimate, Report

__all__ = ["Estimate", "Report", "SimulatedAgent", "Simulation", "main", "simulate", "universal_agents"]
