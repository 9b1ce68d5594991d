"""Shared pytest configuration."""

pytest_plugins = ["lab.pytest_plugin"]
