"""Run every benchmark in turn: ``python -m bench`` (or ``make bench``); ``python -m bench NAME ...`` for some."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time

import bench


def main(argv: list[str]) -> int:
    names = argv or sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_"))
    failed = []
    for name in names:
        module = importlib.import_module(f"bench.{name.removesuffix('.py')}")
        print(f"\n=== {name} ===", flush=True)
        started = time.perf_counter()
        try:
            module.main([])
        except Exception as exc:  # noqa: BLE001 - one failing benchmark must not hide the others
            failed.append(name)
            print(f"FAILED: {exc!r}", flush=True)
        print(f"--- {name}: {time.perf_counter() - started:.1f} s", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
