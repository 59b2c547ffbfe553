"""Brand knowledge: ingestion, chunking, embeddings, the Chroma store and the brand profile."""
