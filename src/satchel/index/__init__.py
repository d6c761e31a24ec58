"""satchel.index"""
