"""Problems, no framework: the digit codec and input checks, the true adder, the training samplers
and the evaluation suites."""
