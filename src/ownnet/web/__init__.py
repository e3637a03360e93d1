"""The web pages of ``ownnet serve`` (extra ``web``): draw a digit and see inside the network,
teach it, watch networks learn.

:func:`ownnet.web.app.create_app` makes the FastAPI app (one router per page or API area,
:mod:`ownnet.web.routes`); :class:`ownnet.web.server.BackgroundServer` runs it with uvicorn
in a thread. The pages are plain files in ``static/`` that load nothing from elsewhere.
"""
