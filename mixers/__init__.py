"""Recipes, the instance-level sampler, the Qwen tokenizer, packing and shard formats. Never imports Beam."""
