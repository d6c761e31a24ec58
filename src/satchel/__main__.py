from satchel.cli.main import run

run()
