"""The shipped ``mlops`` CLI: a SigV4-signed client of the orchestrator's API (``pip install mlops-orchestrator``).

``main`` holds the command group, ``commands`` the API commands and ``client`` the HTTP client.
It needs chalice's dependencies, boto3, pydantic and click only. It never imports local mode
(``mlops_local``) or the developer tools statically: ``mlops local`` and ``mlops demo`` load
local mode through ``main._emulator``, the one door, which says to install the ``local`` extra
when it is missing. The orchestrator (``chalicelib``) never imports this package; the rules are
in ``.importlinter``.
"""
