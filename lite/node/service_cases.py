"""Cases run inside Pyodide (run_wheel.mjs … service_cases.py) on the installed lean wheel against a real local
xlcredit service, through the real browser transport (``pyodide.http.pyfetch``; Node's fetch underneath, which does
not enforce CORS — the CPython tests do that with their browser stand-in). The service and key come from
``XLCREDIT_SERVER_URL`` / ``XLCREDIT_API_KEY``; the customers to ask from ``XLCREDIT_TEST_CUSTOMERS``."""

import os

from xlcredit_lite import plugin
from xlcredit_lite import service as lite_service

FORMULAS = ("credit_limit", "credit_available", "credit_score", "credit_grade", "credit_terms", "dunning_stage")


async def cases():
    out = {"transport": lite_service._transport is None}   # None: pyfetch_transport, the browser's fetch
    for customer in os.environ["XLCREDIT_TEST_CUSTOMERS"].split(","):
        answers = {name: await getattr(plugin, name)(customer) for name in FORMULAS}
        answers["order_check"] = await plugin.order_check(customer, 1000)
        out[customer] = answers
    out["unknown"] = await plugin.credit_limit("NOPE-1")
    os.environ["XLCREDIT_API_KEY"] = "not-a-key"
    lite_service.forget()
    out["wrong_key"] = await plugin.credit_limit(os.environ["XLCREDIT_TEST_CUSTOMERS"].split(",")[0])
    return out
