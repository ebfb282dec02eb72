"""`make bench`: every benchmark of the platform, with medians and the machine's description."""

import os
import platform


def machine_description() -> str:
    return f"{platform.platform()} — Python {platform.python_version()} — {os.cpu_count()} cœurs"


def main() -> None:
    print(f"Machine : {machine_description()}")
    from bench import suites

    for suite in suites.ALL:
        suite()


if __name__ == "__main__":
    main()
