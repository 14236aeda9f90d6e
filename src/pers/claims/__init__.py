"""Campaign claims: who may claim, how often, and what a claim mints."""
