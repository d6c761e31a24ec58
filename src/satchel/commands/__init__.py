"""satchel.commands"""
