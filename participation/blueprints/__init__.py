"""Blueprints, one module per area. Views stay thin: parse, call a service, render."""
