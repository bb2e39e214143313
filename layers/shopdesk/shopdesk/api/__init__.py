"""HTTP-facing shapes: request bodies and responses of the agent API."""
