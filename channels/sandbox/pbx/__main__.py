"""Run the sandbox PBX with demo traffic: ``python -m channels.sandbox.pbx [--port 5038] [--rate 0.5]``.

It listens for AMI on --port (user ``switchboard``, secret ``sandbox``, as config/channels/voice.toml
expects), serves VICIdial's APIs on --api-port and places calls at --rate per second between the
given agents and callers until interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from channels.sandbox.pbx.server import AmiServer
from channels.sandbox.pbx.vicidial_http import VicidialApiServer


async def run(args: argparse.Namespace) -> None:
    pbx = AmiServer(username=args.username, secret=args.secret, time_scale=args.time_scale)
    await pbx.start(args.host, args.port)
    api = VicidialApiServer(pbx, agents=set(args.agents))
    await api.start(args.host, args.api_port)
    logging.info("sandbox PBX: AMI on %s:%d, VICIdial APIs on %s", args.host, pbx.port, api.url)
    try:
        await pbx.wait_for_login(timeout=3600)
        await pbx.run_traffic(args.rate, args.duration, agents=args.agents, callers=args.callers)
    finally:
        await api.stop()
        await pbx.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m channels.sandbox.pbx", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5038)
    parser.add_argument("--api-port", type=int, default=8088)
    parser.add_argument("--username", default="switchboard")
    parser.add_argument("--secret", default="sandbox")
    parser.add_argument("--rate", type=float, default=0.5, help="new calls per second")
    parser.add_argument("--duration", type=float, default=None, help="seconds of traffic (default: until interrupted)")
    parser.add_argument("--time-scale", type=float, default=1.0, help="scenario time multiplier")
    parser.add_argument("--agents", nargs="+", default=["1001", "1002", "1003", "1004"])
    parser.add_argument("--callers", nargs="+", default=["0671234567", "0501234567", "0931234567", "380441234567", "0731112233"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
