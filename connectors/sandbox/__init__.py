"""Local, faithful stand-ins for the vendors' APIs, for the demo and end-to-end tests."""
