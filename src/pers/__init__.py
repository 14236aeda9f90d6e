"""pers: a self-hostable implementation of the PERS loyalty and rewards platform."""

__version__ = "0.1.0"
