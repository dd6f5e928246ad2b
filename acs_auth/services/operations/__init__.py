"""Operator tasks: first administrators, cleanup, demo data and the migration check.

Command-line maintenance (maintenance), the laptop demo data (demo) and "is the database at
the head of migrations/versions?" (schema). It sits on top of the other services and may
import any of them; nothing in services imports it.
"""
