"""Scoring domain: bureau attributes, scorecard training, scoring, reason codes, reports."""
