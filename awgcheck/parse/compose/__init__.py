"""A Docker Compose v2 project reader: .env files, interpolation, override,
extends, include and profiles, with every value's file and line."""
