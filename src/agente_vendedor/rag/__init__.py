"""Retrieval: offline Spanish embeddings, a ChromaDB index kept in step with the database, hybrid search."""
