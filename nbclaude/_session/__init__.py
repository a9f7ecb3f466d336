"""Sessions: one conversation, its state in small parts (see session.py)."""
