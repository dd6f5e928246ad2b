"""Fuzzing: schemathesis against the OpenAPI document, hypothesis against the CSV parser."""
