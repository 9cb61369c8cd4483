"""A local server speaking OpenAI's HTTP API, for testing libopenaimodel.

The package is split by concern: ``spec`` (validation against the published
API description), ``images`` (data URI analysis), ``state`` (per-tenant
state), ``wire`` (raw socket tricks used by network faults), ``chat``,
``finetune`` and ``app`` (the WSGI application and its routes).
"""
