"""Adapters that let other frameworks use the assistant's index and models."""
