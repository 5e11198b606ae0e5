"""retrainer."""
