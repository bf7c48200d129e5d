"""Placeholder until the power switch lands."""

import sys


def main(argv: list[str] | None = None) -> int:
    print("error not implemented", flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
