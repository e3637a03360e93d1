"""The web page of ``ownnet serve``: draw a digit, watch a network learn (extra ``web``).

:func:`ownnet.web.app.create_app` makes the FastAPI app;
:class:`ownnet.web.server.BackgroundServer` runs it with uvicorn in a thread.
"""
