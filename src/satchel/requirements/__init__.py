"""satchel.requirements"""
