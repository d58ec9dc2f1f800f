"""The billing adapter: the utility's billing (Gasolina) behind one interface.

``contract.json`` is the REST contract as an OpenAPI document; :mod:`.client` speaks it (timeouts, a
circuit breaker, tolerant parsing), :mod:`.store` keeps what it answered beside the accounts with the time
of the data, :mod:`.sync` loads every account in bulk and follows the change feed, and :mod:`.sandbox` serves
the contract for the demo and the tests (latency, outages and slow answers on demand).
"""
