"""The back-office web panel at `/panel`: server-rendered pages over the same services as the API."""
