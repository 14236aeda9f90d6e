"""Tenants (projects): their settings, project keys and public views."""
