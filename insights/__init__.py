"""Insights: imported engagement metrics, comments and their sentiment, and reports."""
