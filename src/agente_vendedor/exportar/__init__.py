"""CSV Exporter: clientes, productos, ventas and conversaciones as CSV, JSON/NDJSON and Excel, in constant memory.

`entidades` (what can be exported: filters schema and query plan per entity), `formatos` (row formats),
`archivos` (atomic files and the history row), `service` (count, limit, export), `router` (HTTP).
"""
