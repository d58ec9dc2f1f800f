"""The simulator against theory and against Ciw.

1. Speed: simulated calls per second through the real routing code (workflow, queue book, strategy),
   beside the Ciw queueing simulator on the same M/M/20 system, measured one after the other in this run.
2. Correctness: a single-skill FIFO queue, 20 agents, 3 minutes average handle time, Poisson arrivals
   at 4.0-6.3 calls/min (60-95 % occupancy); for each load the share answered within 20 s is compared
   with Erlang C: |measured - predicted| + 95 % half-width (batch means) must stay within 2 points.
   The loads run in parallel worker processes (one per core by default).

    .venv/bin/python -m bench.bench_simulate [--quick] [--jobs N]
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor

from routing import erlang
from routing.config import load_routing_config
from routing.simulation import Report, simulate

AGENTS = 20
HANDLE_TIME = 180.0
THRESHOLD = 20.0
BAR_POINTS = 2.0
SPEED_LOAD = 5.0  # calls per minute for the speed comparison (75 % occupancy)
#: Calls per load: the half-width shrinks with the square root of the calls and grows steeply near 100 %.
LOADS = {4.0: 200_000, 4.5: 200_000, 5.0: 300_000, 5.5: 600_000, 6.0: 1_200_000, 6.3: 3_000_000}

SINGLE_SKILL_FIFO = """
skills = ["support"]
[queues.support]
strategy = "longest_idle"
[workflow.default]
targets = [{ queue = "support", skills = { support = 1 } }]
"""


def run_load(calls_per_minute: float, calls: int, seed: int) -> tuple[float, Report, float, float]:
    """One simulation; returns the load, the report, wall seconds and CPU seconds."""
    config = load_routing_config(SINGLE_SKILL_FIFO, "bench:single_skill_fifo")
    started, cpu = time.perf_counter(), time.process_time()
    report = simulate(config, AGENTS, calls_per_minute / 60.0, HANDLE_TIME, calls, seed, threshold=THRESHOLD)
    return calls_per_minute, report, time.perf_counter() - started, time.process_time() - cpu


def ciw_rate(customers: int) -> tuple[float, float] | None:
    """Customers per wall second and per CPU second Ciw simulates on the same M/M/20 queue (None when
    Ciw is not installed)."""
    try:
        import ciw
    except ImportError:
        return None
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=SPEED_LOAD / 60.0)],
        service_distributions=[ciw.dists.Exponential(rate=1.0 / HANDLE_TIME)],
        number_of_servers=[AGENTS])
    ciw.seed(1)
    simulation = ciw.Simulation(network)
    started, cpu = time.perf_counter(), time.process_time()
    simulation.simulate_until_max_customers(customers, method="Finish")
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    served = len(simulation.get_all_records())
    return served / elapsed, served / cpu


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_simulate", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the calls (wider intervals)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes for the loads")
    args = parser.parse_args(argv)
    scale = 0.1 if args.quick else 1.0

    speed_calls = int(200_000 * scale)
    _, _, elapsed, cpu = run_load(SPEED_LOAD, speed_calls, seed=99)
    simulated = speed_calls + max(1000, speed_calls // 100)
    theirs = ciw_rate(int(50_000 * scale))
    print(f"speed, M/M/{AGENTS} at {SPEED_LOAD:g} calls/min, one process (per CPU second: steadier on a "
          "shared machine):")
    print(f"{'':44}{'calls/s':>10}{'calls/CPU-s':>13}")
    print(f"  {'switchboard simulate (real routing code)':42}{simulated / elapsed:>10,.0f}{simulated / cpu:>13,.0f}"
          "   bar >= 50,000")
    if theirs is None:
        print("  Ciw: not installed (pip install ciw)")
    else:
        print(f"  {'Ciw (baseline, same run)':42}{theirs[0]:>10,.0f}{theirs[1]:>13,.0f}")

    print(f"\nErlang C check: {AGENTS} agents, AHT {HANDLE_TIME:g} s, answered within {THRESHOLD:g} s "
          f"(bar: |diff| + half-width <= {BAR_POINTS:g} points)")
    print(f"{'calls/min':>9} {'occupancy':>9} {'calls':>10} {'Erlang C':>9} {'measured':>9} {'|diff|':>7} "
          f"{'95% hw':>7} {'sum':>6} {'ASA th.':>8} {'ASA sim':>8}  verdict")
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(run_load, load, max(20_000, int(calls * scale)), seed=index + 1)
                   for index, (load, calls) in sorted(enumerate(LOADS.items()), key=lambda x: -x[1][1])]
        results = sorted((future.result() for future in futures), key=lambda result: result[0])
    wall = time.perf_counter() - started
    passed = 0
    simulated = 0
    for load, report, _, _ in results:
        offered = erlang.traffic(load / 60.0, HANDLE_TIME)
        predicted = erlang.service_level(AGENTS, offered, HANDLE_TIME, THRESHOLD)
        measured = report.service_level.value
        diff = abs(measured - predicted) * 100
        half = report.service_level.half_width * 100
        ok = diff + half <= BAR_POINTS
        passed += ok
        simulated += report.calls
        print(f"{load:>9.1f} {offered / AGENTS:>9.1%} {report.calls:>10,} {predicted:>9.2%} {measured:>9.2%} "
              f"{diff:>7.2f} {half:>7.2f} {diff + half:>6.2f} "
              f"{erlang.average_speed_of_answer(AGENTS, offered, HANDLE_TIME):>7.1f}s {report.asa.value:>7.1f}s  "
              f"{'ok' if ok else 'OUTSIDE'}")
    print(f"{passed} of {len(results)} loads within {BAR_POINTS:g} points (bar: at least 5); "
          f"{simulated:,} calls in {wall:.0f} s wall over {args.jobs} processes "
          f"({simulated / wall:,.0f} calls/s together)")


if __name__ == "__main__":
    main()
