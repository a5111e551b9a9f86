"""Text files and JSONL/Parquet records into documents: readers and the ingest work, free of Beam."""
