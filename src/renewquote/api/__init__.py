"""The JSON API of API.md: FastAPI routers over the services, one problem+json handler."""
