"""pytest plugin (loaded by tests/conftest.py, so the xdist controller has it too): the packse
conformance summary (see tests/e2e/test_packse.py)."""

from __future__ import annotations

from collections import Counter

import pytest

PACKSE_TEST = "test_packse.py::test_scenario["

_outcomes: dict[str, str] = {}  # scenario name -> passed | failed | not-applicable | skipped | pending


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Record each scenario's outcome (on the xdist controller too: worker reports come here)."""
    if PACKSE_TEST not in report.nodeid:
        return
    name = report.nodeid.split(PACKSE_TEST, 1)[1].rstrip("]")
    if report.failed:
        _outcomes[name] = "failed"
    elif report.skipped:
        if hasattr(report, "wasxfail"):
            _outcomes[name] = "pending"
        else:
            reason = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else ""
            not_applicable = reason.removeprefix("Skipped: ").startswith("not applicable:")
            _outcomes.setdefault(name, "not-applicable" if not_applicable else "skipped")
    elif report.when == "call" and report.passed:
        _outcomes.setdefault(name, "passed")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _outcomes:
        return
    counts = Counter(_outcomes.values())
    not_applicable = counts["not-applicable"]
    applicable = len(_outcomes) - not_applicable
    parts = [
        f"{len(_outcomes)} scenarios",
        f"{applicable} applicable",
        f"{counts['passed']} passing",
        f"{not_applicable} not applicable",
    ]
    for kind in ("failed", "skipped", "pending"):
        if counts[kind]:
            parts.append(f"{counts[kind]} {kind}")
    terminalreporter.write_line("packse conformance: " + ", ".join(parts))
