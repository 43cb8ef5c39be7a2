"""`assistant serve`: one resident HTTP service that holds the models and the index.

Every frontend (CLI, browser, Slack, other tools through the OpenAI-compatible
endpoint) can ask it instead of loading models itself. FastAPI on uvicorn; the
app is built by `assistant.server.app.create_app`, the process is started by
`assistant.server.app.serve`. Nothing is imported here, so that `assistant --help`
stays light.
"""
