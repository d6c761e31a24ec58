"""satchel.install"""
