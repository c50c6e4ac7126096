"""Every input becomes requests: the provider-neutral request model, its parsers, and images."""
