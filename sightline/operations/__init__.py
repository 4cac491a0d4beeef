"""Operational health: latency percentiles and incidents, throughput, invalid predictions."""
