"""Sandbox PBX: an AMI server that plays VICIdial-style calls, and VICIdial's HTTP APIs."""

from channels.sandbox.pbx.scenarios import SCENARIOS, CallParams, CallScript, vicidial_call_id
from channels.sandbox.pbx.server import AmiServer, Faults
from channels.sandbox.pbx.vicidial_http import VicidialApiServer

__all__ = ["SCENARIOS", "AmiServer", "CallParams", "CallScript", "Faults", "VicidialApiServer", "vicidial_call_id"]
