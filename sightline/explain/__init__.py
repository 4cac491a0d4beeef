"""Explainability: SHAP feature importance, with the model, logged SHAP values or a surrogate."""
