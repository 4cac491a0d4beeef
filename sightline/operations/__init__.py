"""Operational health: latency percentiles, throughput, invalid predictions."""
