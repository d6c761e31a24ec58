"""satchel.resolve"""
