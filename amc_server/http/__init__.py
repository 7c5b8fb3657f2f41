"""The HTTP face: the server (the only writer of bytes), the ROUTES table, security, logins."""
