"""Registry of benchmark suites (each a callable printing its own medians)."""

ALL: list = []

from bench import validation  # noqa: E402

ALL.append(validation.run)

from bench import flows  # noqa: E402

ALL.append(flows.run)

from bench import dashboard  # noqa: E402

ALL.append(dashboard.run)

from bench import api_reads  # noqa: E402

ALL.append(api_reads.run)

from bench import engagements  # noqa: E402

ALL.append(engagements.run)

from bench import native_cii  # noqa: E402

ALL.append(native_cii.run)
