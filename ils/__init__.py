"""Adapters to other library systems (ИРБИС64 now): wire format apart from transport.

May import the standard library, `library` and `config` only (tests/test_layering.py).
"""
