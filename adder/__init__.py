"""adder: recurrent networks that learn multi-digit addition, least significant digit first."""

__version__ = "0.1.0"
