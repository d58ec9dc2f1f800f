"""The gateway's endpoints, one module per concern."""
