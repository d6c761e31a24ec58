pytest_plugins = [
    "tests.support.fixtures",
    "tests.support.packse_report",
    "tests.support.seaweed",
    "tests.support.remote",
]
