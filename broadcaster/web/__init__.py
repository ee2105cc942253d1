"""The web console (FastAPI + Jinja2 + htmx, all vendored): see app.create_app."""
