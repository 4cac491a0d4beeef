"""Statistics shared by every area: confidence intervals, bootstrap, ranking. Imports only sightline.core."""
