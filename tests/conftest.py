pytest_plugins = ["tests.support.fixtures", "tests.support.packse_report"]
