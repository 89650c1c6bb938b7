"""Tunnel v1: the wire protocol and both session ends, shared by every product part."""
