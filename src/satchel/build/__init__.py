"""satchel.build"""
