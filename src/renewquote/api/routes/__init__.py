"""The API's routers, one per family of calls."""
