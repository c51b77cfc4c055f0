"""Tests for afteraction.core.analysis."""
