"""The `skucast` command line."""
from __future__ import annotations

import argparse
import sys


def _demo(args) -> int:
    from . import demo
    summary = demo.run(out_dir=args.out, service_level=args.service_level, seed=args.seed, plots=not args.no_plots)
    demo.print_summary(summary)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="skucast", description="Probabilistic retail demand and inventory.")
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("demo", help="run the whole job on the built-in M5 slice")
    d.add_argument("--out", default="skucast-demo", help="folder for orders.csv and the PNG plots")
    d.add_argument("--service-level", type=float, default=0.95, help="cycle service level target")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    d.set_defaults(func=_demo)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
