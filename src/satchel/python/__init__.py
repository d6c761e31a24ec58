"""satchel.python"""
