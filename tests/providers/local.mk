# tests/providers
