"""Campaigns, waves, variants and segments arrive with the campaigns issue (#4)."""
