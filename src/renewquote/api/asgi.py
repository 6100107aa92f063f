"""The application for an ASGI server: `uvicorn renewquote.api.asgi:app`."""

from renewquote.api.app import create_app

# A server process: its startup objects stay out of garbage collections (see create_app).
app = create_app(freeze_heap=True)
