"""Domain rules. Services take plain arguments, run one transaction and never touch the request."""
