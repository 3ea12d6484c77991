"""``python train.py fit ...``: the same as ``adder fit ...`` (see README.md)."""

from adder.training.cli import main

if __name__ == "__main__":
    main()
