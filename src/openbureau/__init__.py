"""openbureau: the open-source platform a neutral credit bureau can run on."""

__version__ = "0.1.0"
