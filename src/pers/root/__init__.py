"""Root endpoints: welcome, health and credential checks."""
