"""Train, validate, test or predict with the adder: ``python train.py fit`` (see README.md)."""

from adder.cli import main

if __name__ == "__main__":
    main()
