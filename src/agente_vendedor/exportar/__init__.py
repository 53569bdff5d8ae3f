"""CSV Exporter: clientes, productos and ventas as CSV, JSON/NDJSON and Excel, streamed in constant memory."""
