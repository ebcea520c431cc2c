"""One module per page group of the operator's workspace; each exposes `router` and `api`."""
