"""Maintenance commands: cleanup and demo seeding."""

commands: list = []
