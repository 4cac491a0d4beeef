"""The audit and its data: the audit file, loading, the query layer, safe model loading, validation,
role suggestions, the loaded audit and its summary. Imports only sightline.core and sightline.stats."""
