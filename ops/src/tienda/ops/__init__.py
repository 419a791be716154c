"""The operator CLI: what flows, what failed and why, without reading code."""
