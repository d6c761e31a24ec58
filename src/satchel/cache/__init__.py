"""satchel.cache"""
