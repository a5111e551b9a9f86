"""Default stage recipes (YAML data), modeled on the Qwen3 report."""
