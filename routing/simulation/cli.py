"""``switchboard simulate``: service level of a staffing on the live routing config, beside Erlang C."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from routing import erlang
from routing.config import load_routing_config
from routing.config_source import ConfigError
from routing.simulation.engine import simulate


def _attribute(text: str) -> tuple[str, str]:
    name, separator, value = text.partition("=")
    if not separator or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(
        prog="switchboard simulate",
        description="Simulate Poisson arrivals and exponential handle times through the routing config "
                    "and report the service level, with Erlang C beside it.")
    parse.add_argument("--config", default="config/routing.toml", help="routing config file")
    parse.add_argument("--agents", type=int, required=True, help="agents signed in (all skills)")
    parse.add_argument("--calls-per-minute", type=float, required=True, help="mean arrival rate")
    parse.add_argument("--handle-time", type=float, default=180.0, help="mean handle time, seconds")
    parse.add_argument("--calls", type=int, default=200_000, help="measured calls")
    parse.add_argument("--threshold", type=float, default=20.0, help="service level threshold, seconds")
    parse.add_argument("--patience", type=float, default=None, help="mean patience, seconds (abandonment)")
    parse.add_argument("--seed", type=int, default=1)
    parse.add_argument("--attribute", type=_attribute, action="append", default=[],
                       metavar="NAME=VALUE", help="conversation attribute (default channel=voice)")
    return parse


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    path = Path(args.config)
    try:
        config = load_routing_config(path.read_text(encoding="utf-8"), str(path))
    except OSError as exc:
        print(f"cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    attributes = {"channel": "voice", **dict(args.attribute)}
    rate = args.calls_per_minute / 60.0
    report = simulate(config, args.agents, rate, args.handle_time, args.calls, args.seed,
                      attributes=attributes, patience=args.patience, threshold=args.threshold)
    for line in report.lines():
        print(line)
    load = erlang.traffic(rate, args.handle_time)
    if args.patience is None and load < args.agents:
        print(f"Erlang C (one queue, no abandonment): within {args.threshold:g} s "
              f"{erlang.service_level(args.agents, load, args.handle_time, args.threshold):.2%}, "
              f"ASA {erlang.average_speed_of_answer(args.agents, load, args.handle_time):.1f} s")
    return 0
