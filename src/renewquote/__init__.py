"""renewquote: renewal quotes for software subscriptions, self-service and through partners."""

__version__ = "0.1.0"
