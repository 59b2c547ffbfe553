"""Plume's domain: settings, errors, types, storage, lifecycle, scheduling and publishing."""
