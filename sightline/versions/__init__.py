"""Model versions: compare two versions of one log, on the same requests when possible."""
