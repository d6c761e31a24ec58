"""satchel.cli"""
