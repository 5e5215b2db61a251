"""Incident triage: one node's file, running interface and source side by
side, the health evidence, the likely cause and the fix."""
