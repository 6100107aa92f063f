"""The application for an ASGI server: `uvicorn renewquote.api.asgi:app`."""

from renewquote.api.app import create_app

app = create_app()
