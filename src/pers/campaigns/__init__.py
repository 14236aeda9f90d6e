"""Campaigns: what users earn, for what, where and how often (triggers, conditions, token
units and business engagements)."""
