"""Purchase module: credits bought by card through Stripe."""
