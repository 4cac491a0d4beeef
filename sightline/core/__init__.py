"""The engine's foundation: input errors, the deployment rules, the Section contract, text helpers. Imports nothing of Sightline's."""
